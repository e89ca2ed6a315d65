// k8s-validate checks rendered Kubernetes manifests offline.
//
//	k8s-validate [flags] FILE|-          manifests (kustomize build output), multi-document YAML
//	k8s-validate -nats-values FILE       the values file for the official NATS Helm chart
//
// Every document is decoded strictly into the Go type of its apiVersion/kind (client-go's scheme plus the
// prometheus-operator and MongoDB operator types): unknown fields, unknown kinds or apiVersions, duplicate
// keys and invalid quantities fail. Then the project's policy and cross-reference checks run. One line per
// check ("ok" or "FAIL" with the offending objects indented below); the exit status is 1 if any failed.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

type options struct {
	env             string
	namespace       string
	externalSecrets []string
	requireDigest   bool
	services        []string
	autoscaled      []string
	ingressNS       string
	monitoringNS    string
	envJSON         string
}

type check struct {
	name string
	run  func(*context) []string
}

func main() {
	var (
		opts       options
		external   string
		services   string
		autoscaled string
		natsValues string
		natsMin    int
	)
	flag.StringVar(&opts.env, "env", "manifests", "label printed before every check (base, dev, prod)")
	flag.StringVar(&opts.namespace, "namespace", "", "namespace every namespaced object must be in; empty: none may set one (a namespace-agnostic base)")
	flag.StringVar(&external, "external-secrets", "", "comma-separated Secrets that exist outside the rendered manifests")
	flag.BoolVar(&opts.requireDigest, "require-digest", false, "every image must be pinned by digest (@sha256:…)")
	flag.StringVar(&services, "services", "gateway,auth,goals,activity,streak,aggregation,notification", "services that each need a Deployment")
	flag.StringVar(&autoscaled, "autoscaled", "gateway,activity,streak", "services that need a HorizontalPodAutoscaler")
	flag.StringVar(&opts.ingressNS, "ingress-namespace", "ingress-nginx", "namespace of the ingress controller (NetworkPolicy check)")
	flag.StringVar(&opts.monitoringNS, "monitoring-namespace", "monitoring", "namespace of Prometheus (NetworkPolicy check)")
	flag.StringVar(&opts.envJSON, "env-json", "", "write each app Deployment's effective environment to this JSON file (for scripts/k8s/check-config.ts)")
	flag.StringVar(&natsValues, "nats-values", "", "check these NATS Helm values files (comma-separated, merged in order) instead of manifests")
	flag.IntVar(&natsMin, "nats-min-replicas", 3, "fewest NATS servers the values may run")
	flag.Parse()
	opts.externalSecrets = splitList(external)
	opts.services = splitList(services)
	opts.autoscaled = splitList(autoscaled)

	r := &reporter{prefix: opts.env}
	if natsValues != "" {
		if r.prefix == "manifests" {
			r.prefix = "nats"
		}
		checkNATSValues(r, natsValues, natsMin)
		os.Exit(r.exit())
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: k8s-validate [flags] FILE|-   (or -nats-values FILE)")
		os.Exit(2)
	}
	var in io.Reader = os.Stdin
	if path := flag.Arg(0); path != "-" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	validate(r, &opts, in)
	os.Exit(r.exit())
}

func validate(r *reporter, opts *options, in io.Reader) {
	s, err := newScheme()
	if err != nil {
		r.result("scheme", []string{err.Error()})
		return
	}
	docs, errs := splitYAML(in)
	r.result(fmt.Sprintf("yaml: %d documents parse, no duplicate keys", len(docs)), errStrings(errs))

	var objects []*object
	var problems []string
	for i, doc := range docs {
		o, err := decodeStrict(s, i+1, doc)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		objects = append(objects, o)
	}
	r.result(fmt.Sprintf("schema: strict typed decoding (unknown fields, kinds, apiVersions, bad quantities rejected): %s", kindSummary(objects)), problems)
	if len(objects) == 0 {
		r.result("manifests: at least one object", []string{"nothing to check"})
		return
	}

	c := newContext(opts, objects)
	for _, ch := range checks(opts) {
		r.result(ch.name, ch.run(c))
	}
	if opts.envJSON != "" {
		if err := writeEnvJSON(c, opts.envJSON); err != nil {
			r.result("env-json: write "+opts.envJSON, []string{err.Error()})
		}
	}
}

type reporter struct {
	prefix   string
	failures int
}

const maxDetails = 25

func (r *reporter) result(name string, problems []string) {
	if len(problems) == 0 {
		fmt.Printf("ok    %s: %s\n", r.prefix, name)
		return
	}
	r.failures++
	fmt.Printf("FAIL  %s: %s\n", r.prefix, name)
	for i, p := range problems {
		if i == maxDetails {
			fmt.Printf("      … and %d more\n", len(problems)-maxDetails)
			break
		}
		fmt.Printf("      %s\n", strings.ReplaceAll(p, "\n", "\n      "))
	}
}

func (r *reporter) exit() int {
	if r.failures > 0 {
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func errStrings(errs []error) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func kindSummary(objects []*object) string {
	counts := map[string]int{}
	var order []string
	for _, o := range objects {
		k := o.gvk.Kind
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return fmt.Sprintf("%d objects (%s)", len(objects), strings.Join(parts, ", "))
}
