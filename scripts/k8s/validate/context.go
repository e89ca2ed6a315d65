package main

import (
	"fmt"
	"sort"

	mdbv1 "github.com/mongodb/mongodb-kubernetes-operator/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	appLabel       = "app.kubernetes.io/name"
	appName        = "goal-tracker"
	componentLabel = "app.kubernetes.io/component"
)

// workload is anything that runs pods: its pod template and, for Deployments, its replicas.
type workload struct {
	o         *object
	selector  *metav1.LabelSelector
	labels    map[string]string
	spec      *corev1.PodSpec
	replicas  *int32
	component string
	app       bool // one of the goal-tracker processes (label app.kubernetes.io/name=goal-tracker)
}

func (w *workload) id() string { return w.o.id() }

func (w *workload) containers() []corev1.Container {
	all := append([]corev1.Container{}, w.spec.InitContainers...)
	return append(all, w.spec.Containers...)
}

type context struct {
	opts      *options
	objects   []*object
	workloads []*workload
	secrets   map[string]*corev1.Secret    // rendered Secrets by name
	configMap map[string]*corev1.ConfigMap // rendered ConfigMaps by name
	// Secrets some rendered object makes exist (the MongoDB operator's connection-string Secret).
	providedSecrets map[string]string
	// Pod labels of pods an operator will create from a rendered object (MongoDBCommunity members).
	operatorPods map[string]map[string]string
}

func newContext(opts *options, objects []*object) *context {
	c := &context{
		opts:            opts,
		objects:         objects,
		secrets:         map[string]*corev1.Secret{},
		configMap:       map[string]*corev1.ConfigMap{},
		providedSecrets: map[string]string{},
		operatorPods:    map[string]map[string]string{},
	}
	for _, o := range objects {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			c.addWorkload(o, v.Spec.Selector, &v.Spec.Template, v.Spec.Replicas)
		case *appsv1.StatefulSet:
			c.addWorkload(o, v.Spec.Selector, &v.Spec.Template, v.Spec.Replicas)
		case *appsv1.DaemonSet:
			c.addWorkload(o, v.Spec.Selector, &v.Spec.Template, nil)
		case *batchv1.Job:
			c.addWorkload(o, v.Spec.Selector, &v.Spec.Template, nil)
		case *batchv1.CronJob:
			c.addWorkload(o, nil, &v.Spec.JobTemplate.Spec.Template, nil)
		case *corev1.Pod:
			c.workloads = append(c.workloads, &workload{o: o, labels: v.Labels, spec: &v.Spec})
		case *corev1.Secret:
			c.secrets[v.Name] = v
		case *corev1.ConfigMap:
			c.configMap[v.Name] = v
		case *mdbv1.MongoDBCommunity:
			c.operatorPods[o.id()] = v.Spec.StatefulSetConfiguration.SpecWrapper.Spec.Template.Labels
			for _, u := range v.Spec.Users {
				name := u.ConnectionStringSecretName
				if name == "" {
					// The operator's default: <resource>-<auth db>-<user>.
					db := u.DB
					if db == "" {
						db = "admin"
					}
					name = fmt.Sprintf("%s-%s-%s", v.Name, db, u.Name)
				}
				c.providedSecrets[name] = "written by the MongoDB operator for " + o.id()
			}
		}
	}
	return c
}

func (c *context) addWorkload(o *object, sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, replicas *int32) {
	w := &workload{o: o, selector: sel, labels: t.Labels, spec: &t.Spec, replicas: replicas}
	w.component = t.Labels[componentLabel]
	w.app = t.Labels[appLabel] == appName
	c.workloads = append(c.workloads, w)
}

func (c *context) appWorkloads() []*workload {
	var out []*workload
	for _, w := range c.workloads {
		if w.app {
			out = append(out, w)
		}
	}
	return out
}

// matching returns the workloads whose pod labels the selector selects (nil selector: none).
func (c *context) matching(sel *metav1.LabelSelector) ([]*workload, error) {
	if sel == nil {
		return nil, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	var out []*workload
	for _, w := range c.workloads {
		if s.Matches(labels.Set(w.labels)) {
			out = append(out, w)
		}
	}
	return out, nil
}

// operatorMatches names the operator-made pods (see operatorPods) that the selector selects.
func (c *context) operatorMatches(sel *metav1.LabelSelector) []string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || sel == nil {
		return nil
	}
	var out []string
	for _, id := range sortedKeys(c.operatorPods) {
		if l := c.operatorPods[id]; len(l) > 0 && s.Matches(labels.Set(l)) {
			out = append(out, id)
		}
	}
	return out
}

func (c *context) matchingMap(sel map[string]string) []*workload {
	if len(sel) == 0 {
		return nil
	}
	s := labels.SelectorFromSet(sel)
	var out []*workload
	for _, w := range c.workloads {
		if s.Matches(labels.Set(w.labels)) {
			out = append(out, w)
		}
	}
	return out
}

func (c *context) find(kind, name string) *object {
	for _, o := range c.objects {
		if o.gvk.Kind == kind && o.meta.GetName() == name {
			return o
		}
	}
	return nil
}

func (c *context) isExternalSecret(name string) bool {
	for _, s := range c.opts.externalSecrets {
		if s == name {
			return true
		}
	}
	return false
}

// containerPort resolves a port (number or name) against the containers of a pod spec.
func containerPort(spec *corev1.PodSpec, name string) (int32, bool) {
	for _, ctr := range spec.Containers {
		for _, p := range ctr.Ports {
			if p.Name == name {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

func hasContainerPort(spec *corev1.PodSpec, port int32) bool {
	for _, ctr := range spec.Containers {
		for _, p := range ctr.Ports {
			if p.ContainerPort == port {
				return true
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}
