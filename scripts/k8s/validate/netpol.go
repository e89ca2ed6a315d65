package main

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var (
	egressAll          = map[int32]string{53: "DNS", 4222: "NATS", 27017: "MongoDB"}
	egressNotification = map[int32]string{25: "SMTP", 465: "SMTPS", 587: "submission", 80: "HTTP", 443: "HTTPS"}
)

// checkNetworkPolicies evaluates, for every goal-tracker pod, the union of the policies that select it
// (NetworkPolicies are additive): it must be isolated both ways, may accept only the ops port from the
// monitoring namespace (and, for the gateway, its HTTP port from the ingress controller's namespace),
// and may open only the expected egress ports.
func checkNetworkPolicies(c *context) []string {
	var policies []*networkingv1.NetworkPolicy
	for _, o := range c.objects {
		if np, ok := o.obj.(*networkingv1.NetworkPolicy); ok {
			policies = append(policies, np)
		}
	}
	var out []string
	for _, w := range c.appWorkloads() {
		var isoIn, isoOut bool
		ingress := map[int32][]string{} // port -> namespaces allowed
		egress := map[int32]bool{}
		for _, np := range policies {
			sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err != nil || !sel.Matches(labels.Set(w.labels)) {
				continue
			}
			where := fmt.Sprintf("NetworkPolicy %s on %s", np.Name, w.id())
			in, eg := policyTypes(np)
			isoIn, isoOut = isoIn || in, isoOut || eg
			if in {
				for _, rule := range np.Spec.Ingress {
					if len(rule.From) == 0 {
						out = append(out, where+": an ingress rule allows every source")
					}
					if len(rule.Ports) == 0 {
						out = append(out, where+": an ingress rule allows every port")
					}
					sources := peerNamespaces(rule.From)
					for _, p := range rule.Ports {
						n, ok := resolvePort(w.spec, p.Port)
						if !ok {
							out = append(out, fmt.Sprintf("%s: ingress port %s does not exist on the pod", where, p.Port.String()))
							continue
						}
						ingress[n] = append(ingress[n], sources...)
					}
				}
			}
			if eg {
				for _, rule := range np.Spec.Egress {
					if len(rule.Ports) == 0 {
						out = append(out, where+": an egress rule allows every port")
					}
					for _, p := range rule.Ports {
						if p.Port == nil || p.Port.Type == intstr.String {
							out = append(out, where+": egress ports must be numbers")
							continue
						}
						egress[p.Port.IntVal] = true
					}
				}
			}
		}
		where := w.id()
		if !isoIn || !isoOut {
			out = append(out, fmt.Sprintf("%s: not isolated for %s (needs a default-deny policy with policyTypes Ingress and Egress)", where, missing(isoIn, isoOut)))
		}
		wantIn := map[int32]string{metricsPort: c.opts.monitoringNS}
		if w.component == "gateway" {
			if n, ok := containerPort(w.spec, "http"); ok {
				wantIn[n] = c.opts.ingressNS
			}
		}
		for port, ns := range wantIn {
			if !contains(ingress[port], ns) {
				out = append(out, fmt.Sprintf("%s: port %d does not accept namespace %s", where, port, ns))
			}
		}
		for _, port := range sortedPorts(ingress) {
			ns, expected := wantIn[port]
			if !expected {
				out = append(out, fmt.Sprintf("%s: port %d is open to %s", where, port, strings.Join(ingress[port], ", ")))
				continue
			}
			for _, got := range ingress[port] {
				if got != ns {
					out = append(out, fmt.Sprintf("%s: port %d is open to %s (only %s expected)", where, port, got, ns))
				}
			}
		}
		for port, what := range egressAll {
			if !egress[port] {
				out = append(out, fmt.Sprintf("%s: egress to %s (%d) is not allowed", where, what, port))
			}
		}
		for port := range egress {
			if _, ok := egressAll[port]; ok {
				continue
			}
			if _, ok := egressNotification[port]; ok && w.component == "notification" {
				continue
			}
			out = append(out, fmt.Sprintf("%s: egress port %d is open", where, port))
		}
	}
	sort.Strings(out)
	return out
}

func policyTypes(np *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(np.Spec.PolicyTypes) == 0 {
		// The API server's default: Ingress always, Egress when there are egress rules.
		return true, len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		ingress = ingress || t == networkingv1.PolicyTypeIngress
		egress = egress || t == networkingv1.PolicyTypeEgress
	}
	return ingress, egress
}

// peerNamespaces names the sources of an ingress rule: a namespace name (from the automatic
// kubernetes.io/metadata.name label), or a description of anything broader.
func peerNamespaces(peers []networkingv1.NetworkPolicyPeer) []string {
	var out []string
	for _, p := range peers {
		switch {
		case p.IPBlock != nil:
			out = append(out, "ipBlock "+p.IPBlock.CIDR)
		case p.NamespaceSelector == nil:
			out = append(out, "pods of the same namespace")
		case p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "" && len(p.NamespaceSelector.MatchExpressions) == 0:
			out = append(out, p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
		default:
			out = append(out, "namespaces "+metav1.FormatLabelSelector(p.NamespaceSelector))
		}
	}
	if len(peers) == 0 {
		out = append(out, "anywhere")
	}
	return out
}

func resolvePort(spec *corev1.PodSpec, p *intstr.IntOrString) (int32, bool) {
	if p == nil {
		return 0, false
	}
	if p.Type == intstr.String {
		return containerPort(spec, p.StrVal)
	}
	return p.IntVal, hasContainerPort(spec, p.IntVal)
}

func missing(in, out bool) string {
	switch {
	case !in && !out:
		return "ingress and egress"
	case !in:
		return "ingress"
	default:
		return "egress"
	}
}

func sortedPorts(m map[int32][]string) []int32 {
	out := make([]int32, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
