package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	mdbv1 "github.com/mongodb/mongodb-kubernetes-operator/api/v1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// object is one decoded manifest: its typed Go value (chosen by apiVersion/kind) and where it came from.
type object struct {
	index int // 1-based position in the stream
	gvk   schema.GroupVersionKind
	obj   runtime.Object
	meta  metav1.Object
	json  []byte
}

func (o *object) id() string {
	ns := o.meta.GetNamespace()
	if ns != "" {
		ns += "/"
	}
	return fmt.Sprintf("%s %s%s", o.gvk.Kind, ns, o.meta.GetName())
}

// newScheme is client-go's scheme of every built-in type plus the two CRDs the manifests use, with
// their real Go types: PodMonitor (prometheus-operator) and MongoDBCommunity (MongoDB operator).
func newScheme() (*runtime.Scheme, error) {
	s := scheme.Scheme
	if err := monitoringv1.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := mdbv1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// splitYAML returns the non-empty documents of a multi-document YAML stream, each as JSON.
// YAMLToJSONStrict rejects duplicate keys, which plain YAML parsing silently resolves.
func splitYAML(r io.Reader) ([][]byte, []error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs [][]byte
	var errs []error
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", n, err))
			break
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		j, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", n, err))
			continue
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue
		}
		docs = append(docs, j)
	}
	return docs, errs
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "---" {
			continue
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// decodeStrict decodes one JSON document into the Go type registered for its apiVersion and kind.
// The strict serializer fails on unknown and duplicate fields; typed fields fail on wrong types and
// invalid values (resource.Quantity, IntOrString, durations of metav1.Duration, ...). An
// apiVersion/kind pair that is not registered is an error too.
func decodeStrict(s *runtime.Scheme, index int, doc []byte) (*object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, fmt.Errorf("document %d: %w", index, err)
	}
	if tm.APIVersion == "" || tm.Kind == "" {
		return nil, fmt.Errorf("document %d: apiVersion and kind are required", index)
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("document %d: %w", index, err)
	}
	gvk := gv.WithKind(tm.Kind)
	if !s.Recognizes(gvk) {
		return nil, fmt.Errorf("document %d: unknown apiVersion/kind %s %s (not a registered Kubernetes, PodMonitor or MongoDBCommunity type)", index, tm.APIVersion, tm.Kind)
	}
	serializer := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, s, s, kjson.SerializerOptions{Strict: true})
	obj, _, err := serializer.Decode(doc, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s (document %d): %w", tm.Kind, nameOf(doc), index, err)
	}
	meta, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("document %d: %s has no object metadata", index, tm.Kind)
	}
	return &object{index: index, gvk: gvk, obj: obj, meta: meta, json: doc}, nil
}

func nameOf(doc []byte) string {
	var m struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	_ = yaml.Unmarshal(doc, &m)
	if m.Metadata.Name == "" {
		return "(unnamed)"
	}
	return m.Metadata.Name
}
