package main

import (
	"fmt"
	"regexp"
	"strings"

	mdbv1 "github.com/mongodb/mongodb-kubernetes-operator/api/v1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// drainSeconds is how long a process may take to stop after SIGTERM: moleculer.config.ts
// tracking.shutdownTimeout (10 s) for requests in flight, before connections close.
const drainSeconds = 10

func checks(opts *options) []check {
	namespaces := "no object sets a namespace and there is no Namespace (namespace-agnostic base)"
	if opts.namespace != "" {
		namespaces = fmt.Sprintf("every namespaced object is in %q; Namespace %s exists with Pod Security enforce=restricted", opts.namespace, opts.namespace)
	}
	images := "explicit tag, never latest (or a digest)"
	if opts.requireDigest {
		images = "by digest (@sha256:<64 hex>)"
	}
	return []check{
		{"api versions: every object uses a GA (non-alpha/beta) API", checkAPIVersions},
		{"names: valid DNS names, unique per kind, valid label and annotation keys/values", checkNames},
		{"namespaces: " + namespaces, checkNamespaces},
		{"coverage: a Deployment per service (SERVICES=<name>), HPAs, PDBs, gateway Service+Ingress, PodMonitor", checkCoverage},
		{"policy: every container has cpu+memory requests and limits (requests <= limits)", checkResources},
		{"policy: app containers have startup (/live), liveness (/live) and readiness (/ready) probes on port 9100", checkProbes},
		{"policy: restricted security context (non-root uid 1000 for the app, no privilege escalation, drop ALL, RuntimeDefault seccomp, read-only root + /tmp emptyDir)", checkSecurity},
		{"policy: images pinned " + images, checkImages},
		{"policy: graceful shutdown (preStop sleep, terminationGracePeriodSeconds > preStop + drain)", checkShutdown},
		{"config: env is well-formed and matches shared/config.ts (known keys, valid values, private key only in auth)", checkEnv},
		{"refs: ConfigMaps, Secrets and ServiceAccounts referenced exist (rendered, operator-made or declared external)", checkRefs},
		{"refs: selectors select pods; Service/Ingress/HPA/PDB/PodMonitor targets and ports exist", checkSelectors},
		{"netpol: app pods default-deny; ingress 3000 (gateway, ingress ns) and 9100 (monitoring ns); egress 53/4222/27017 (+ SMTP/HTTPS for notification)", checkNetworkPolicies},
		{"crd: MongoDBCommunity spec (replica set, members, version, users, secrets, StatefulSet override strictly typed)", checkMongoDBCommunity},
		{"crd: PodMonitor endpoints (port names exist on selected pods, path, interval)", checkPodMonitors},
	}
}

var prerelease = regexp.MustCompile(`^v\d+(alpha|beta)\d*$`)

func checkAPIVersions(c *context) []string {
	var out []string
	for _, o := range c.objects {
		if prerelease.MatchString(o.gvk.Version) {
			out = append(out, fmt.Sprintf("%s: %s is a pre-release API (removed or off by default on current clusters)", o.id(), o.gvk.GroupVersion()))
		}
	}
	return out
}

func checkNames(c *context) []string {
	var out []string
	seen := map[string]bool{}
	for _, o := range c.objects {
		name := o.meta.GetName()
		var errs []string
		switch o.gvk.Kind {
		case "Service":
			errs = validation.IsDNS1035Label(name)
		case "Namespace":
			errs = validation.IsDNS1123Label(name)
		default:
			errs = validation.IsDNS1123Subdomain(name)
		}
		for _, e := range errs {
			out = append(out, fmt.Sprintf("%s: name %q: %s", o.id(), name, e))
		}
		key := o.gvk.GroupKind().String() + "/" + o.meta.GetNamespace() + "/" + name
		if seen[key] {
			out = append(out, fmt.Sprintf("%s: defined twice", o.id()))
		}
		seen[key] = true
		out = append(out, labelProblems(o.id()+" metadata.labels", o.meta.GetLabels())...)
		for k := range o.meta.GetAnnotations() {
			for _, e := range validation.IsQualifiedName(strings.ToLower(k)) {
				out = append(out, fmt.Sprintf("%s: annotation key %q: %s", o.id(), k, e))
			}
		}
	}
	for _, w := range c.workloads {
		out = append(out, labelProblems(w.id()+" pod template labels", w.labels)...)
		for _, ctr := range w.containers() {
			for _, e := range validation.IsDNS1123Label(ctr.Name) {
				out = append(out, fmt.Sprintf("%s: container name %q: %s", w.id(), ctr.Name, e))
			}
			for _, p := range ctr.Ports {
				if p.Name != "" {
					for _, e := range validation.IsValidPortName(p.Name) {
						out = append(out, fmt.Sprintf("%s: port name %q: %s", w.id(), p.Name, e))
					}
				}
			}
		}
	}
	return out
}

func labelProblems(where string, m map[string]string) []string {
	var out []string
	for k, v := range m {
		for _, e := range validation.IsQualifiedName(k) {
			out = append(out, fmt.Sprintf("%s: key %q: %s", where, k, e))
		}
		for _, e := range validation.IsValidLabelValue(v) {
			out = append(out, fmt.Sprintf("%s: value %q of %q: %s", where, v, k, e))
		}
	}
	return out
}

// Kinds without a namespace among those these manifests may contain.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "PriorityClass": true,
	"StorageClass": true, "CustomResourceDefinition": true, "PersistentVolume": true, "IngressClass": true,
}

func checkNamespaces(c *context) []string {
	var out []string
	ns := c.opts.namespace
	for _, o := range c.objects {
		got := o.meta.GetNamespace()
		switch {
		case clusterScoped[o.gvk.Kind]:
			if got != "" {
				out = append(out, fmt.Sprintf("%s: cluster-scoped kind with a namespace", o.id()))
			}
			if ns == "" && o.gvk.Kind == "Namespace" {
				out = append(out, fmt.Sprintf("%s: a namespace-agnostic base must not create a Namespace", o.id()))
			}
		case ns == "" && got != "":
			out = append(out, fmt.Sprintf("%s: sets namespace %q in a namespace-agnostic base", o.id(), got))
		case ns != "" && got != ns:
			out = append(out, fmt.Sprintf("%s: namespace %q, want %q", o.id(), got, ns))
		}
	}
	if ns != "" {
		o := c.find("Namespace", ns)
		if o == nil {
			out = append(out, fmt.Sprintf("Namespace %s is not in the manifests", ns))
		} else if got := o.meta.GetLabels()["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			out = append(out, fmt.Sprintf("%s: label pod-security.kubernetes.io/enforce is %q, want restricted", o.id(), got))
		}
	}
	return out
}

func checkCoverage(c *context) []string {
	var out []string
	deployments := map[string]*appsv1.Deployment{}
	for _, w := range c.appWorkloads() {
		d, ok := w.o.obj.(*appsv1.Deployment)
		if !ok {
			out = append(out, fmt.Sprintf("%s: goal-tracker pods must come from Deployments", w.id()))
			continue
		}
		if deployments[w.component] != nil {
			out = append(out, fmt.Sprintf("%s: second Deployment for component %q", w.id(), w.component))
		}
		deployments[w.component] = d
		if !contains(c.opts.services, w.component) {
			out = append(out, fmt.Sprintf("%s: component %q is not a known service (%s)", w.id(), w.component, strings.Join(c.opts.services, ", ")))
		}
		if d.Name != "goal-tracker-"+w.component {
			out = append(out, fmt.Sprintf("%s: name should be goal-tracker-%s", w.id(), w.component))
		}
		if d.Labels[componentLabel] != w.component || d.Labels[appLabel] != appName {
			out = append(out, fmt.Sprintf("%s: object labels must repeat %s=%s and %s=%s", w.id(), appLabel, appName, componentLabel, w.component))
		}
		if len(d.Spec.Template.Spec.Containers) != 1 {
			out = append(out, fmt.Sprintf("%s: want exactly one container (one process per pod)", w.id()))
			continue
		}
		if got := envValue(d.Spec.Template.Spec.Containers[0], "SERVICES"); got != w.component {
			out = append(out, fmt.Sprintf("%s: SERVICES=%q, want %q", w.id(), got, w.component))
		}
	}
	for _, svc := range c.opts.services {
		if deployments[svc] == nil {
			out = append(out, fmt.Sprintf("no Deployment for service %q", svc))
		}
	}
	hpas := map[string]bool{}
	pdbs := map[string]bool{}
	podMonitored := map[string]bool{}
	for _, o := range c.objects {
		switch v := o.obj.(type) {
		case *autoscalingv2.HorizontalPodAutoscaler:
			hpas[strings.TrimPrefix(v.Spec.ScaleTargetRef.Name, "goal-tracker-")] = true
		case *policyv1.PodDisruptionBudget:
			ws, _ := c.matching(v.Spec.Selector)
			for _, w := range ws {
				pdbs[w.component] = w.app || pdbs[w.component]
			}
		case *monitoringv1.PodMonitor:
			ws, _ := c.matching(&v.Spec.Selector)
			for _, w := range ws {
				podMonitored[w.component] = true
			}
		}
	}
	for _, svc := range c.opts.autoscaled {
		if !hpas[svc] {
			out = append(out, fmt.Sprintf("no HorizontalPodAutoscaler for %q", svc))
		}
	}
	for _, svc := range c.opts.services {
		if !pdbs[svc] {
			out = append(out, fmt.Sprintf("no PodDisruptionBudget selecting %q", svc))
		}
		if !podMonitored[svc] {
			out = append(out, fmt.Sprintf("no PodMonitor selecting %q", svc))
		}
	}
	if c.find("Service", "goal-tracker-gateway") == nil {
		out = append(out, "no Service goal-tracker-gateway")
	}
	ingresses := 0
	for _, o := range c.objects {
		if _, ok := o.obj.(*networkingv1.Ingress); ok {
			ingresses++
		}
	}
	if ingresses == 0 {
		out = append(out, "no Ingress")
	}
	return out
}

func envValue(ctr corev1.Container, name string) string {
	for _, e := range ctr.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func checkResources(c *context) []string {
	var out []string
	for _, w := range c.workloads {
		for _, ctr := range w.containers() {
			out = append(out, resourceProblems(fmt.Sprintf("%s container %s", w.id(), ctr.Name), ctr.Resources)...)
		}
	}
	for _, o := range c.objects {
		if m, ok := o.obj.(*mdbv1.MongoDBCommunity); ok {
			spec := m.Spec.StatefulSetConfiguration.SpecWrapper.Spec
			names := map[string]bool{}
			for _, ctr := range spec.Template.Spec.Containers {
				names[ctr.Name] = true
				out = append(out, resourceProblems(fmt.Sprintf("%s statefulSet container %s", o.id(), ctr.Name), ctr.Resources)...)
			}
			for _, want := range []string{"mongod", "mongodb-agent"} {
				if !names[want] {
					out = append(out, fmt.Sprintf("%s: spec.statefulSet sets no resources for container %s (operator defaults apply)", o.id(), want))
				}
			}
		}
	}
	return out
}

func resourceProblems(where string, r corev1.ResourceRequirements) []string {
	var out []string
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[res]
		lim, hasLim := r.Limits[res]
		if !hasReq {
			out = append(out, fmt.Sprintf("%s: no %s request", where, res))
		}
		if !hasLim {
			out = append(out, fmt.Sprintf("%s: no %s limit", where, res))
		}
		if hasReq && hasLim && req.Cmp(lim) > 0 {
			out = append(out, fmt.Sprintf("%s: %s request %s above limit %s", where, res, req.String(), lim.String()))
		}
		if hasReq && req.Sign() <= 0 {
			out = append(out, fmt.Sprintf("%s: %s request must be positive", where, res))
		}
	}
	return out
}

const metricsPort = 9100

func checkProbes(c *context) []string {
	var out []string
	for _, w := range c.workloads {
		if k := w.o.gvk.Kind; k == "Job" || k == "CronJob" || k == "Pod" {
			continue // run to completion: no probes
		}
		for _, ctr := range w.spec.Containers {
			where := fmt.Sprintf("%s container %s", w.id(), ctr.Name)
			if !w.app {
				if ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil {
					out = append(out, where+": needs readiness and liveness probes")
				}
				continue
			}
			out = append(out, httpProbeProblems(where, "startupProbe", ctr.StartupProbe, "/live", w.spec)...)
			out = append(out, httpProbeProblems(where, "livenessProbe", ctr.LivenessProbe, "/live", w.spec)...)
			out = append(out, httpProbeProblems(where, "readinessProbe", ctr.ReadinessProbe, "/ready", w.spec)...)
			if p := ctr.ReadinessProbe; p != nil && p.TimeoutSeconds != 0 && p.TimeoutSeconds < 3 {
				out = append(out, where+": readinessProbe timeoutSeconds below 3 (the app's checks may take 2 s)")
			}
			if !hasContainerPort(w.spec, metricsPort) {
				out = append(out, fmt.Sprintf("%s: declares no containerPort %d", where, metricsPort))
			}
		}
	}
	return out
}

func httpProbeProblems(where, kind string, p *corev1.Probe, path string, spec *corev1.PodSpec) []string {
	if p == nil {
		return []string{fmt.Sprintf("%s: no %s", where, kind)}
	}
	if p.HTTPGet == nil {
		return []string{fmt.Sprintf("%s: %s must be an httpGet", where, kind)}
	}
	var out []string
	if p.HTTPGet.Path != path {
		out = append(out, fmt.Sprintf("%s: %s path %q, want %q", where, kind, p.HTTPGet.Path, path))
	}
	port := p.HTTPGet.Port
	num := port.IntVal
	if port.Type == intstr.String {
		n, ok := containerPort(spec, port.StrVal)
		if !ok {
			out = append(out, fmt.Sprintf("%s: %s port %q is not a declared container port", where, kind, port.StrVal))
		}
		num = n
	}
	if num != metricsPort && len(out) == 0 {
		out = append(out, fmt.Sprintf("%s: %s on port %d, want %d (METRICS_PORT)", where, kind, num, metricsPort))
	}
	return out
}

func checkSecurity(c *context) []string {
	var out []string
	for _, w := range c.workloads {
		out = append(out, podSecurityProblems(w.id(), w.spec, w.app, true)...)
	}
	for _, o := range c.objects {
		if m, ok := o.obj.(*mdbv1.MongoDBCommunity); ok {
			spec := m.Spec.StatefulSetConfiguration.SpecWrapper.Spec.Template.Spec
			// The override is merged into the operator's pod: check the Pod Security "restricted"
			// fields it sets (the operator's own read-only root and volumes are its business).
			out = append(out, podSecurityProblems(o.id()+" spec.statefulSet", &spec, false, false)...)
		}
	}
	return out
}

func podSecurityProblems(where string, spec *corev1.PodSpec, app, readOnlyRoot bool) []string {
	var out []string
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		out = append(out, where+": uses host namespaces")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			out = append(out, fmt.Sprintf("%s: hostPath volume %s", where, v.Name))
		}
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	for _, ctr := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		cw := fmt.Sprintf("%s container %s", where, ctr.Name)
		sc := ctr.SecurityContext
		if sc == nil {
			out = append(out, cw+": no securityContext")
			continue
		}
		if !boolOr(sc.RunAsNonRoot, psc.RunAsNonRoot) {
			out = append(out, cw+": runAsNonRoot is not true")
		}
		uid := int64Or(sc.RunAsUser, psc.RunAsUser)
		if uid != nil && *uid == 0 {
			out = append(out, cw+": runs as uid 0")
		}
		if app && (uid == nil || *uid != 1000) {
			out = append(out, cw+": runAsUser must be 1000 (the image's node user)")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			out = append(out, cw+": allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			out = append(out, cw+": privileged")
		}
		if sc.Capabilities == nil || !containsCap(sc.Capabilities.Drop, "ALL") {
			out = append(out, cw+": capabilities do not drop ALL")
		} else {
			for _, add := range sc.Capabilities.Add {
				if add != "NET_BIND_SERVICE" {
					out = append(out, fmt.Sprintf("%s: adds capability %s", cw, add))
				}
			}
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
			out = append(out, cw+": seccompProfile is not RuntimeDefault (or Localhost)")
		}
		if readOnlyRoot && (sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem) {
			out = append(out, cw+": readOnlyRootFilesystem is not true")
		}
		if app && !mountsEmptyDir(spec, ctr, "/tmp") {
			out = append(out, cw+": no emptyDir mounted at /tmp")
		}
	}
	return out
}

func boolOr(a, b *bool) bool {
	if a != nil {
		return *a
	}
	return b != nil && *b
}

func int64Or(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

func containsCap(caps []corev1.Capability, want corev1.Capability) bool {
	for _, c := range caps {
		if c == want {
			return true
		}
	}
	return false
}

func mountsEmptyDir(spec *corev1.PodSpec, ctr corev1.Container, path string) bool {
	for _, m := range ctr.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.EmptyDir != nil {
				return true
			}
		}
	}
	return false
}

var digestRe = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

func checkImages(c *context) []string {
	var out []string
	for _, w := range c.workloads {
		for _, ctr := range w.containers() {
			out = append(out, imageProblems(fmt.Sprintf("%s container %s", w.id(), ctr.Name), ctr.Image, c.opts.requireDigest)...)
		}
	}
	return out
}

func imageProblems(where, image string, requireDigest bool) []string {
	if image == "" {
		return []string{where + ": no image"}
	}
	if digestRe.MatchString(image) {
		return nil
	}
	if strings.Contains(image, "@") {
		return []string{fmt.Sprintf("%s: malformed digest in %q", where, image)}
	}
	if requireDigest {
		return []string{fmt.Sprintf("%s: %q is not pinned by digest (@sha256:…)", where, image)}
	}
	last := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(last, ":")
	if i < 0 {
		return []string{fmt.Sprintf("%s: %q has no tag (means latest)", where, image)}
	}
	if tag := last[i+1:]; tag == "latest" || tag == "" {
		return []string{fmt.Sprintf("%s: %q uses tag %q", where, image, tag)}
	}
	return nil
}

func checkShutdown(c *context) []string {
	var out []string
	for _, w := range c.appWorkloads() {
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		if w.spec.TerminationGracePeriodSeconds != nil {
			grace = *w.spec.TerminationGracePeriodSeconds
		}
		for _, ctr := range w.spec.Containers {
			where := fmt.Sprintf("%s container %s", w.id(), ctr.Name)
			sleep := preStopSleep(ctr)
			if sleep < 0 {
				out = append(out, where+": no preStop sleep (endpoints need a moment to drop the pod before SIGTERM)")
				continue
			}
			if sleep < 2 || sleep > 15 {
				out = append(out, fmt.Sprintf("%s: preStop sleep %ds, want 2..15", where, sleep))
			}
			if need := sleep + drainSeconds + 5; grace < need {
				out = append(out, fmt.Sprintf("%s: terminationGracePeriodSeconds %d < preStop %ds + drain %ds + 5s margin", where, grace, sleep, drainSeconds))
			}
		}
	}
	return out
}

// preStopSleep returns the seconds of a preStop sleep (native sleep action or exec sleep N), or -1.
func preStopSleep(ctr corev1.Container) int64 {
	if ctr.Lifecycle == nil || ctr.Lifecycle.PreStop == nil {
		return -1
	}
	h := ctr.Lifecycle.PreStop
	if h.Sleep != nil {
		return h.Sleep.Seconds
	}
	if h.Exec != nil {
		cmd := h.Exec.Command
		if len(cmd) == 2 && (cmd[0] == "sleep" || cmd[0] == "/bin/sleep") {
			var n int64
			if _, err := fmt.Sscan(cmd[1], &n); err == nil {
				return n
			}
		}
	}
	return -1
}

// Selector sanity and every reference by selector or name.
func checkSelectors(c *context) []string {
	var out []string
	for _, w := range c.workloads {
		if w.selector == nil {
			continue
		}
		s, err := metav1.LabelSelectorAsSelector(w.selector)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: selector: %v", w.id(), err))
		} else if s.Empty() || !s.Matches(labels.Set(w.labels)) {
			out = append(out, fmt.Sprintf("%s: selector does not match its own pod template labels", w.id()))
		}
	}
	for _, o := range c.objects {
		switch v := o.obj.(type) {
		case *corev1.Service:
			if len(v.Spec.Selector) == 0 {
				continue
			}
			ws := c.matchingMap(v.Spec.Selector)
			if len(ws) == 0 {
				out = append(out, fmt.Sprintf("%s: selector %v selects no pods", o.id(), v.Spec.Selector))
			}
			for _, p := range v.Spec.Ports {
				for _, w := range ws {
					if !targetPortExists(w.spec, p.TargetPort, p.Port) {
						out = append(out, fmt.Sprintf("%s: targetPort %s does not exist on %s", o.id(), p.TargetPort.String(), w.id()))
					}
				}
			}
		case *networkingv1.Ingress:
			if v.Spec.IngressClassName == nil || *v.Spec.IngressClassName == "" {
				out = append(out, o.id()+": no ingressClassName")
			}
			for _, rule := range v.Spec.Rules {
				if rule.HTTP == nil {
					continue
				}
				for _, path := range rule.HTTP.Paths {
					out = append(out, ingressBackendProblems(c, o, path.Backend)...)
				}
			}
			if v.Spec.DefaultBackend != nil {
				out = append(out, ingressBackendProblems(c, o, *v.Spec.DefaultBackend)...)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := v.Spec.ScaleTargetRef
			target := c.find(ref.Kind, ref.Name)
			if target == nil || target.gvk.GroupVersion().String() != ref.APIVersion {
				out = append(out, fmt.Sprintf("%s: scaleTargetRef %s %s %s is not in the manifests", o.id(), ref.APIVersion, ref.Kind, ref.Name))
				continue
			}
			if d, ok := target.obj.(*appsv1.Deployment); ok && d.Spec.Replicas != nil {
				out = append(out, fmt.Sprintf("%s: sets spec.replicas although %s scales it (every apply would reset the autoscaler)", target.id(), o.id()))
			}
			minR := int32(1)
			if v.Spec.MinReplicas != nil {
				minR = *v.Spec.MinReplicas
			}
			if minR < 1 || minR > v.Spec.MaxReplicas {
				out = append(out, fmt.Sprintf("%s: minReplicas %d, maxReplicas %d", o.id(), minR, v.Spec.MaxReplicas))
			}
			if len(v.Spec.Metrics) == 0 {
				out = append(out, o.id()+": no metrics")
			}
		case *policyv1.PodDisruptionBudget:
			ws, err := c.matching(v.Spec.Selector)
			if err != nil || (len(ws) == 0 && len(c.operatorMatches(v.Spec.Selector)) == 0) {
				out = append(out, fmt.Sprintf("%s: selects no pods (rendered, or made by an operator from a rendered resource)", o.id()))
			}
			if (v.Spec.MinAvailable == nil) == (v.Spec.MaxUnavailable == nil) {
				out = append(out, o.id()+": set exactly one of minAvailable and maxUnavailable")
			}
			if v.Spec.MaxUnavailable != nil && v.Spec.MaxUnavailable.Type == intstr.Int && v.Spec.MaxUnavailable.IntVal < 1 {
				out = append(out, o.id()+": maxUnavailable < 1 blocks every node drain")
			}
			if m := v.Spec.MinAvailable; m != nil && m.Type == intstr.Int {
				for _, w := range ws {
					if w.replicas != nil && m.IntVal >= *w.replicas {
						out = append(out, fmt.Sprintf("%s: minAvailable %d >= replicas %d of %s blocks every node drain", o.id(), m.IntVal, *w.replicas, w.id()))
					}
				}
			}
		case *networkingv1.NetworkPolicy:
			ws, err := c.matching(&v.Spec.PodSelector)
			if err != nil || (len(ws) == 0 && len(v.Spec.PodSelector.MatchLabels)+len(v.Spec.PodSelector.MatchExpressions) > 0) {
				out = append(out, fmt.Sprintf("%s: podSelector selects no pods", o.id()))
			}
		case *monitoringv1.PodMonitor:
			ws, err := c.matching(&v.Spec.Selector)
			if err != nil || len(ws) == 0 {
				out = append(out, fmt.Sprintf("%s: selector selects no pods", o.id()))
			}
		}
	}
	return out
}

func targetPortExists(spec *corev1.PodSpec, target intstr.IntOrString, port int32) bool {
	switch {
	case target.Type == intstr.String && target.StrVal != "":
		_, ok := containerPort(spec, target.StrVal)
		return ok
	case target.IntVal != 0:
		return hasContainerPort(spec, target.IntVal)
	default:
		return hasContainerPort(spec, port)
	}
}

func ingressBackendProblems(c *context, o *object, b networkingv1.IngressBackend) []string {
	if b.Service == nil {
		return []string{o.id() + ": backend without a service"}
	}
	so := c.find("Service", b.Service.Name)
	if so == nil {
		return []string{fmt.Sprintf("%s: backend Service %s is not in the manifests", o.id(), b.Service.Name)}
	}
	svc := so.obj.(*corev1.Service)
	for _, p := range svc.Spec.Ports {
		if (b.Service.Port.Name != "" && p.Name == b.Service.Port.Name) || (b.Service.Port.Number != 0 && p.Port == b.Service.Port.Number) {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: Service %s has no port %v", o.id(), b.Service.Name, b.Service.Port)}
}
