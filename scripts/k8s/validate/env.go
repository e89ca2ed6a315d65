package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	mdbv1 "github.com/mongodb/mongodb-kubernetes-operator/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The environment the app reads, with the patterns of shared/config.ts (envSchema) — keep in step.
// An empty value means "unset" there, so it is always accepted.
var configPatterns = map[string]*regexp.Regexp{
	"NODE_ENV":              regexp.MustCompile(`^(development|production|test)$`),
	"PORT":                  regexp.MustCompile(`^[0-9]{1,5}$`),
	"DATA_DIR":              regexp.MustCompile(`^.+$`),
	"TRANSPORTER":           regexp.MustCompile(`^nats://\S+$`),
	"CHANNELS_URL":          regexp.MustCompile(`^nats://\S+$`),
	"MONGO_URL":             regexp.MustCompile(`^mongodb(\+srv)?://\S+$`),
	"SERVICES":              regexp.MustCompile(`^[a-z]+(,[a-z]+)*$`),
	"JWT_PRIVATE_KEY":       regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	"JWT_PUBLIC_KEY":        regexp.MustCompile(`-----BEGIN PUBLIC KEY-----`),
	"ADMIN_EMAILS":          regexp.MustCompile(`^[^\s,]+(,\s*[^\s,]+)*$`),
	"MAX_ACTIVE_GOALS":      regexp.MustCompile(`^[0-9]{1,6}$`),
	"RATE_LIMIT_PER_MINUTE": regexp.MustCompile(`^[0-9]{1,7}$`),
	"SMTP_URL":              regexp.MustCompile(`^smtps?://\S+$`),
	"WEBHOOK_ALLOW_PRIVATE": regexp.MustCompile(`^(true|false)$`),
	"CORS_ORIGINS":          regexp.MustCompile(`^\S+$`),
	"METRICS_PORT":          regexp.MustCompile(`^[0-9]{1,5}$`),
	"LOG_LEVEL":             regexp.MustCompile(`^(debug|info|warn|error)$`),
	"NODE_ID":               regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`),
	"NAMESPACE":             regexp.MustCompile(`^[a-z0-9-]{1,32}$`),
	"JETSTREAM_REPLICAS":    regexp.MustCompile(`^(1|3|5)$`),
	"WEBHOOK_RETRY_BASE_MS": regexp.MustCompile(`^[0-9]{1,6}$`),
}

// Variables the app does not read but the runtime does.
var runtimeEnv = map[string]bool{"NODE_OPTIONS": true, "TZ": true}

// Keys of the Secret the MongoDB operator writes per user (connectionStringSecretName).
var operatorSecretKeys = map[string]bool{
	"connectionString.standard": true, "connectionString.standardSrv": true, "username": true, "password": true,
}

// envSource is where one variable of a container comes from, and its value when the manifests know it.
type envSource struct {
	from  string
	value *string
}

func checkEnv(c *context) []string {
	var out []string
	for _, w := range c.workloads {
		for _, ctr := range w.containers() {
			where := fmt.Sprintf("%s container %s", w.id(), ctr.Name)
			seen := map[string]bool{}
			for _, e := range ctr.Env {
				if seen[e.Name] {
					out = append(out, fmt.Sprintf("%s: env %s set twice", where, e.Name))
				}
				seen[e.Name] = true
				if e.Value != "" && e.ValueFrom != nil {
					out = append(out, fmt.Sprintf("%s: env %s has both value and valueFrom", where, e.Name))
				}
			}
		}
	}
	for _, w := range c.appWorkloads() {
		for _, ctr := range w.spec.Containers {
			where := fmt.Sprintf("%s container %s", w.id(), ctr.Name)
			env := c.effectiveEnv(ctr)
			for _, name := range sortedKeys(env) {
				src := env[name]
				pattern, known := configPatterns[name]
				if !known {
					if !runtimeEnv[name] {
						out = append(out, fmt.Sprintf("%s: %s (from %s) is not a variable the app reads (typo?)", where, name, src.from))
					}
					continue
				}
				if src.value != nil && *src.value != "" && !pattern.MatchString(*src.value) {
					out = append(out, fmt.Sprintf("%s: %s=%q (from %s) does not match %s", where, name, *src.value, src.from, pattern))
				}
			}
			for _, name := range []string{"NODE_ENV", "TRANSPORTER", "CHANNELS_URL", "MONGO_URL", "JWT_PUBLIC_KEY", "SERVICES"} {
				if env[name].from == "" {
					out = append(out, fmt.Sprintf("%s: %s is not set", where, name))
				}
			}
			if v := env["NODE_ENV"].value; v != nil && *v != "production" {
				out = append(out, fmt.Sprintf("%s: NODE_ENV=%q, want production", where, *v))
			}
			if v := env["METRICS_PORT"].value; v != nil && *v != "" && *v != fmt.Sprint(metricsPort) {
				out = append(out, fmt.Sprintf("%s: METRICS_PORT=%s but the probes and PodMonitor use %d", where, *v, metricsPort))
			}
			if v := env["MONGO_URL"].value; v != nil && !strings.Contains(*v, "replicaSet=") {
				out = append(out, fmt.Sprintf("%s: MONGO_URL (from %s) names no replicaSet", where, env["MONGO_URL"].from))
			}
			if w.component == "gateway" {
				port := "3000"
				if v := env["PORT"].value; v != nil && *v != "" {
					port = *v
				}
				if n, ok := containerPort(w.spec, "http"); !ok || fmt.Sprint(n) != port {
					out = append(out, fmt.Sprintf("%s: container port \"http\" must be PORT (%s)", where, port))
				}
			}
			_, hasPrivate := env["JWT_PRIVATE_KEY"]
			if w.component == "auth" && !hasPrivate {
				out = append(out, where+": auth needs JWT_PRIVATE_KEY")
			}
			if w.component != "auth" && hasPrivate {
				out = append(out, where+": only auth may see JWT_PRIVATE_KEY")
			}
			if env["SMTP_URL"].from != "" && w.component != "notification" {
				out = append(out, where+": only notification needs SMTP_URL")
			}
		}
	}
	return out
}

// effectiveEnv is what the process sees: envFrom (in order), then env, later entries winning.
func (c *context) effectiveEnv(ctr corev1.Container) map[string]envSource {
	env := map[string]envSource{}
	for _, ef := range ctr.EnvFrom {
		if ef.ConfigMapRef != nil {
			if cm := c.configMap[ef.ConfigMapRef.Name]; cm != nil {
				for k, v := range cm.Data {
					v := v
					env[ef.Prefix+k] = envSource{from: "ConfigMap " + cm.Name, value: &v}
				}
			}
		}
		if ef.SecretRef != nil {
			if s := c.secrets[ef.SecretRef.Name]; s != nil {
				for k, v := range secretData(s) {
					v := v
					env[ef.Prefix+k] = envSource{from: "Secret " + s.Name, value: &v}
				}
			}
		}
	}
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom == nil:
			v := e.Value
			env[e.Name] = envSource{from: "env", value: &v}
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			src := envSource{from: fmt.Sprintf("Secret %s key %s", ref.Name, ref.Key)}
			if s := c.secrets[ref.Name]; s != nil {
				if v, ok := secretData(s)[ref.Key]; ok {
					src.value = &v
				}
			}
			env[e.Name] = src
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			src := envSource{from: fmt.Sprintf("ConfigMap %s key %s", ref.Name, ref.Key)}
			if cm := c.configMap[ref.Name]; cm != nil {
				if v, ok := cm.Data[ref.Key]; ok {
					src.value = &v
				}
			}
			env[e.Name] = src
		default:
			env[e.Name] = envSource{from: "valueFrom"}
		}
	}
	return env
}

func secretData(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out
}

func checkRefs(c *context) []string {
	var out []string
	secretRef := func(where, name, key string, optional bool) {
		if s := c.secrets[name]; s != nil {
			if key != "" && !optional {
				if _, ok := secretData(s)[key]; !ok {
					out = append(out, fmt.Sprintf("%s: Secret %s has no key %q", where, name, key))
				}
			}
			return
		}
		if by, ok := c.providedSecrets[name]; ok {
			if key != "" && !operatorSecretKeys[key] {
				out = append(out, fmt.Sprintf("%s: Secret %s (%s) will have no key %q", where, name, by, key))
			}
			return
		}
		if optional || c.isExternalSecret(name) {
			return
		}
		out = append(out, fmt.Sprintf("%s: Secret %s is neither rendered, made by an operator, nor declared external", where, name))
	}
	configMapRef := func(where, name, key string, optional bool) {
		cm := c.configMap[name]
		if cm == nil {
			if !optional {
				out = append(out, fmt.Sprintf("%s: ConfigMap %s is not in the manifests", where, name))
			}
			return
		}
		if key != "" && !optional {
			if _, ok := cm.Data[key]; !ok {
				out = append(out, fmt.Sprintf("%s: ConfigMap %s has no key %q", where, name, key))
			}
		}
	}
	opt := func(b *bool) bool { return b != nil && *b }
	for _, w := range c.workloads {
		for _, ctr := range w.containers() {
			where := fmt.Sprintf("%s container %s", w.id(), ctr.Name)
			for _, ef := range ctr.EnvFrom {
				if ef.ConfigMapRef != nil {
					configMapRef(where, ef.ConfigMapRef.Name, "", opt(ef.ConfigMapRef.Optional))
				}
				if ef.SecretRef != nil {
					secretRef(where, ef.SecretRef.Name, "", opt(ef.SecretRef.Optional))
				}
			}
			for _, e := range ctr.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					secretRef(where+" env "+e.Name, r.Name, r.Key, opt(r.Optional))
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					configMapRef(where+" env "+e.Name, r.Name, r.Key, opt(r.Optional))
				}
			}
			for _, m := range ctr.VolumeMounts {
				found := false
				for _, v := range w.spec.Volumes {
					found = found || v.Name == m.Name
				}
				for _, t := range volumeClaimTemplateNames(w) {
					found = found || t == m.Name
				}
				if !found {
					out = append(out, fmt.Sprintf("%s: volumeMount %s has no volume", where, m.Name))
				}
			}
		}
		for _, v := range w.spec.Volumes {
			if v.ConfigMap != nil {
				configMapRef(w.id()+" volume "+v.Name, v.ConfigMap.Name, "", opt(v.ConfigMap.Optional))
			}
			if v.Secret != nil {
				secretRef(w.id()+" volume "+v.Name, v.Secret.SecretName, "", opt(v.Secret.Optional))
			}
		}
		if sa := w.spec.ServiceAccountName; sa != "" && sa != "default" && c.find("ServiceAccount", sa) == nil {
			out = append(out, fmt.Sprintf("%s: ServiceAccount %s is not in the manifests", w.id(), sa))
		}
	}
	for _, o := range c.objects {
		if m, ok := o.obj.(*mdbv1.MongoDBCommunity); ok {
			for _, u := range m.Spec.Users {
				secretRef(fmt.Sprintf("%s user %s password", o.id(), u.Name), u.PasswordSecretRef.Name, "", false)
			}
		}
	}
	return out
}

func volumeClaimTemplateNames(w *workload) []string {
	sts, ok := w.o.obj.(*appsv1.StatefulSet)
	if !ok {
		return nil
	}
	var out []string
	for _, t := range sts.Spec.VolumeClaimTemplates {
		out = append(out, t.Name)
	}
	return out
}

// writeEnvJSON dumps what each app Deployment's process will see, for the app's own config loader to
// judge (scripts/k8s/check-config.ts). A value from a Secret outside the manifests is null.
func writeEnvJSON(c *context, path string) error {
	type deployment struct {
		Name      string             `json:"name"`
		Component string             `json:"component"`
		Env       map[string]*string `json:"env"`
	}
	dump := struct {
		Deployments []deployment `json:"deployments"`
	}{Deployments: []deployment{}}
	for _, w := range c.appWorkloads() {
		for _, ctr := range w.spec.Containers {
			env := map[string]*string{}
			for name, src := range c.effectiveEnv(ctr) {
				env[name] = src.value
			}
			dump.Deployments = append(dump.Deployments, deployment{Name: w.o.meta.GetName(), Component: w.component, Env: env})
		}
	}
	data, err := json.MarshalIndent(dump, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}
