package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// Top-level keys of the official NATS chart (nats-io/k8s, helm/charts/nats, 1.x values.yaml).
// The chart itself cannot be downloaded here, so this list stands in for its values schema.
var natsChartKeys = map[string]bool{
	"global": true, "nameOverride": true, "fullnameOverride": true, "namespaceOverride": true,
	"config": true, "container": true, "reloader": true, "promExporter": true, "service": true,
	"statefulSet": true, "podTemplate": true, "headlessService": true, "configMap": true,
	"podDisruptionBudget": true, "networkPolicy": true, "serviceAccount": true, "natsBox": true,
	"extraResources": true,
}

// Keys this project sets under config.cluster and config.jetstream, with the rest of the chart's keys
// there (1.x values.yaml), so that a misspelt key fails instead of silently falling back to a default.
var natsConfigKeys = map[string]any{
	"cluster": map[string]any{
		"enabled": nil, "port": nil, "replicas": nil, "noAdvertise": nil, "name": nil,
		"routeURLs": nil, "tls": nil, "merge": nil, "patch": nil,
	},
	"jetstream": map[string]any{
		"enabled": nil, "merge": nil, "patch": nil,
		"fileStore": map[string]any{
			"enabled": nil, "dir": nil, "maxSize": nil,
			"pvc": map[string]any{"enabled": nil, "size": nil, "storageClassName": nil, "name": nil, "merge": nil, "patch": nil},
		},
		"memoryStore": map[string]any{"enabled": nil, "maxSize": nil},
	},
}

// unknownKeys lists the keys of values that the allow-list tree does not have (nil = anything below).
func unknownKeys(prefix string, values map[string]any, allowed map[string]any) []string {
	var out []string
	for _, k := range sortedKeys(values) {
		sub, ok := allowed[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s%s is not a value of the NATS chart", prefix, k))
			continue
		}
		if subAllowed, ok := sub.(map[string]any); ok {
			if subValues, ok := values[k].(map[string]any); ok {
				out = append(out, unknownKeys(prefix+k+".", subValues, subAllowed)...)
			}
		}
	}
	return out
}

// checkNATSValues checks the values files (merged in order, as `helm -f a -f b` does) for what this
// project relies on: clustered JetStream on file storage, restricted security and resources of every
// container, and strict Kubernetes typing of the chart's `merge` blocks (partial objects the chart merges
// into what it renders).
func checkNATSValues(r *reporter, files string, minReplicas int) {
	merged := map[string]any{}
	var problems []string
	paths := splitList(files)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		j, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		var values map[string]any
		if err := json.Unmarshal(j, &values); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		for _, k := range sortedKeys(values) {
			if !natsChartKeys[k] {
				problems = append(problems, fmt.Sprintf("%s: %q is not a value of the NATS chart", path, k))
			}
		}
		if cfg, ok := values["config"].(map[string]any); ok {
			for _, section := range []string{"cluster", "jetstream"} {
				if sub, ok := cfg[section].(map[string]any); ok {
					allowed := map[string]any{section: natsConfigKeys[section]}
					for _, p := range unknownKeys("config.", map[string]any{section: sub}, allowed) {
						problems = append(problems, path+": "+p)
					}
				}
			}
		}
		deepMerge(merged, values)
	}
	r.result(fmt.Sprintf("values: %s parse (no duplicate keys), only chart keys (top level, config.cluster, config.jetstream)", strings.Join(paths, " + ")), problems)

	var out []string
	if !boolAt(merged, false, "config", "jetstream", "enabled") {
		out = append(out, "config.jetstream.enabled must be true (the channels need JetStream)")
	}
	if !boolAt(merged, true, "config", "jetstream", "fileStore", "enabled") || !boolAt(merged, true, "config", "jetstream", "fileStore", "pvc", "enabled") {
		out = append(out, "config.jetstream.fileStore (and its pvc) must be enabled: durable messages live on disk")
	}
	if boolAt(merged, false, "config", "jetstream", "memoryStore", "enabled") {
		out = append(out, "config.jetstream.memoryStore should stay off (streams use file storage)")
	}
	if s, ok := at(merged, "config", "jetstream", "fileStore", "pvc", "size").(string); ok {
		if _, err := resource.ParseQuantity(s); err != nil {
			out = append(out, fmt.Sprintf("config.jetstream.fileStore.pvc.size %q: %v", s, err))
		}
	}
	replicas := 1
	if boolAt(merged, false, "config", "cluster", "enabled") {
		replicas = 3 // chart default
		if n, ok := at(merged, "config", "cluster", "replicas").(float64); ok {
			replicas = int(n)
		}
		if replicas < 2 {
			out = append(out, "config.cluster.replicas must be >= 2 when the cluster is enabled")
		}
	}
	if replicas < minReplicas || (replicas > 1 && replicas%2 == 0) {
		out = append(out, fmt.Sprintf("%d NATS servers: want an odd number >= %d (JetStream quorum)", replicas, minReplicas))
	}
	r.result(fmt.Sprintf("jetstream: enabled, file storage on a PVC, %d server(s) (cluster replicas, min %d)", replicas, minReplicas), out)

	out = nil
	containers := []struct {
		name    string
		path    []string
		enabled bool
	}{
		{"nats", []string{"container", "merge"}, true},
		{"reloader", []string{"reloader", "merge"}, boolAt(merged, true, "reloader", "enabled")},
		{"prom-exporter", []string{"promExporter", "merge"}, boolAt(merged, false, "promExporter", "enabled")},
		{"nats-box", []string{"natsBox", "container", "merge"}, boolAt(merged, true, "natsBox", "enabled")},
	}
	for _, ctr := range containers {
		where := strings.Join(ctr.path, ".")
		var c corev1.Container
		if err := strictInto(at(merged, ctr.path...), &c); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		if !ctr.enabled {
			continue
		}
		c.Name = ctr.name
		out = append(out, resourceProblems(where+" ("+ctr.name+")", c.Resources)...)
		pod := "podTemplate.merge"
		if ctr.name == "nats-box" {
			pod = "natsBox.podTemplate.merge"
		}
		var tmpl corev1.PodTemplateSpec
		if err := strictInto(at(merged, strings.Split(pod, ".")...), &tmpl); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", pod, err))
			continue
		}
		tmpl.Spec.Containers = []corev1.Container{c}
		out = append(out, podSecurityProblems(where+" + "+pod, &tmpl.Spec, false, true)...)
	}
	typed := []struct {
		path []string
		into any
	}{
		{[]string{"statefulSet", "merge"}, &appsv1.StatefulSet{}},
		{[]string{"podDisruptionBudget", "merge"}, &policyv1.PodDisruptionBudget{}},
		{[]string{"podTemplate", "merge"}, &corev1.PodTemplateSpec{}},
		{[]string{"natsBox", "podTemplate", "merge"}, &corev1.PodTemplateSpec{}},
		{[]string{"config", "jetstream", "fileStore", "pvc", "merge"}, &corev1.PersistentVolumeClaim{}},
	}
	for _, t := range typed {
		if err := strictInto(at(merged, t.path...), t.into); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", strings.Join(t.path, "."), err))
		}
	}
	r.result("kubernetes: merge blocks decode strictly as Container/PodTemplateSpec/StatefulSet/PDB/PVC; every enabled container restricted with requests and limits", out)
}

func strictInto(v any, into any) error {
	if v == nil {
		return nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return yaml.UnmarshalStrict(j, into)
}

func at(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func boolAt(m map[string]any, def bool, path ...string) bool {
	if b, ok := at(m, path...).(bool); ok {
		return b
	}
	return def
}

// deepMerge merges src into dst as Helm merges values files: maps recursively, everything else replaced.
func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}
