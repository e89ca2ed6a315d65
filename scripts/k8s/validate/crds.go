package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	mdbv1 "github.com/mongodb/mongodb-kubernetes-operator/api/v1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// checkMongoDBCommunity adds what the Go types cannot say: the CRD's required fields and enums (its
// OpenAPI schema is not available offline) and a strict decode of spec.statefulSet.spec, which the
// operator's type wraps with a plain (non-strict) json.Unmarshal.
func checkMongoDBCommunity(c *context) []string {
	var out []string
	for _, o := range c.objects {
		m, ok := o.obj.(*mdbv1.MongoDBCommunity)
		if !ok {
			continue
		}
		id := o.id()
		if m.Spec.Type != mdbv1.ReplicaSet {
			out = append(out, fmt.Sprintf("%s: spec.type %q, want ReplicaSet", id, m.Spec.Type))
		}
		if m.Spec.Members < 3 || m.Spec.Members%2 == 0 {
			out = append(out, fmt.Sprintf("%s: spec.members %d, want an odd number >= 3", id, m.Spec.Members))
		}
		if !semver.MatchString(m.Spec.Version) {
			out = append(out, fmt.Sprintf("%s: spec.version %q is not an exact MongoDB version (x.y.z)", id, m.Spec.Version))
		}
		modes := m.Spec.Security.Authentication.Modes
		if len(modes) == 0 {
			out = append(out, id+": spec.security.authentication.modes is empty")
		}
		for _, mode := range modes {
			switch mode {
			case "SCRAM", "SCRAM-SHA-1", "SCRAM-SHA-256", "X509":
			default:
				out = append(out, fmt.Sprintf("%s: unknown authentication mode %q", id, mode))
			}
		}
		if len(m.Spec.Users) == 0 {
			out = append(out, id+": spec.users is empty (the app needs a user)")
		}
		for _, u := range m.Spec.Users {
			uw := fmt.Sprintf("%s user %q", id, u.Name)
			if u.Name == "" || u.DB == "" {
				out = append(out, uw+": name and db are required")
			}
			if u.PasswordSecretRef.Name == "" {
				out = append(out, uw+": passwordSecretRef.name is required")
			}
			if u.ScramCredentialsSecretName == "" {
				out = append(out, uw+": scramCredentialsSecretName is required")
			}
			if len(u.Roles) == 0 {
				out = append(out, uw+": no roles")
			}
			for _, r := range u.Roles {
				if r.Name == "" || r.DB == "" {
					out = append(out, uw+": every role needs name and db")
				}
			}
		}
		// Strictly re-decode the StatefulSet override (a partial StatefulSetSpec).
		var raw struct {
			Spec struct {
				StatefulSet *struct {
					Spec json.RawMessage `json:"spec"`
				} `json:"statefulSet"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(o.json, &raw); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		if raw.Spec.StatefulSet == nil || len(raw.Spec.StatefulSet.Spec) == 0 {
			continue
		}
		var spec appsv1.StatefulSetSpec
		if err := yaml.UnmarshalStrict(raw.Spec.StatefulSet.Spec, &spec); err != nil {
			out = append(out, fmt.Sprintf("%s: spec.statefulSet.spec: %v", id, err))
		}
		if spec.Template.Labels[appLabel] != "mongodb" {
			out = append(out, fmt.Sprintf("%s: spec.statefulSet.spec.template.metadata.labels must set %s=mongodb (the app's egress NetworkPolicy selects it)", id, appLabel))
		}
	}
	return out
}

func checkPodMonitors(c *context) []string {
	var out []string
	for _, o := range c.objects {
		pm, ok := o.obj.(*monitoringv1.PodMonitor)
		if !ok {
			continue
		}
		ws, _ := c.matching(&pm.Spec.Selector)
		if len(pm.Spec.PodMetricsEndpoints) == 0 {
			out = append(out, o.id()+": no podMetricsEndpoints")
		}
		for i, ep := range pm.Spec.PodMetricsEndpoints {
			where := fmt.Sprintf("%s endpoint %d", o.id(), i)
			if ep.Port == nil || *ep.Port == "" {
				out = append(out, where+": no port name")
			} else {
				for _, w := range ws {
					if n, ok := containerPort(w.spec, *ep.Port); !ok || n != metricsPort {
						out = append(out, fmt.Sprintf("%s: port %q is not %d on %s", where, *ep.Port, metricsPort, w.id()))
					}
				}
			}
			if ep.Path != "" && ep.Path[0] != '/' {
				out = append(out, fmt.Sprintf("%s: path %q", where, ep.Path))
			}
			interval, err1 := promDuration(string(ep.Interval))
			timeout, err2 := promDuration(string(ep.ScrapeTimeout))
			if err1 != nil {
				out = append(out, fmt.Sprintf("%s: interval: %v", where, err1))
			}
			if err2 != nil {
				out = append(out, fmt.Sprintf("%s: scrapeTimeout: %v", where, err2))
			}
			if err1 == nil && err2 == nil && interval > 0 && timeout > interval {
				out = append(out, fmt.Sprintf("%s: scrapeTimeout %s above interval %s", where, ep.ScrapeTimeout, ep.Interval))
			}
		}
	}
	return out
}

var promDurationRe = regexp.MustCompile(`^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`)

// promDuration parses a Prometheus duration (the CRD's pattern); empty means "Prometheus default".
func promDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	m := promDurationRe.FindStringSubmatch(s)
	if m == nil || s == "0" {
		return 0, fmt.Errorf("%q is not a Prometheus duration", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second, time.Millisecond}
	var d time.Duration
	for i, u := range units {
		if v := m[2+2*i]; v != "" {
			var n int64
			fmt.Sscan(v, &n)
			d += time.Duration(n) * u
		}
	}
	return d, nil
}
