// Command argo-events-oracle evaluates Argo Events sensors the way Argo Events v1.9 does, with
// the libraries it uses (tidwall/gjson, Knetic/govaluate, Masterminds/sprig, text/template,
// encoding/json, net/http's header canonicalization), so the TypeScript simulator
// (tools/simulator.ts) can be held against the real thing (test/events/oracle.test.ts).
//
// It reads one JSON request on stdin: {"sensors": [Sensor...], "events": [event...]}, where an
// event is {"kind": "webhook"|"sqs", "eventSourceName", "eventName", "body": "<raw text>",
// "headers": {"name": ["value"]}, "messageId"}. For each event it prints one JSON line: the
// event data bytes the event source would publish (or why it publishes nothing), each matching
// dependency's filter outcome, and each trigger parameter of a passing dependency resolved as
// pkg/sensors/triggers/params.go resolves it. Built with GOPATH mode against Debian's packages:
// GO111MODULE=off GOPATH=/usr/share/gocode go build -o <out> ./tools/argo-events-oracle
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/Knetic/govaluate"
	"github.com/Masterminds/sprig"
	"github.com/tidwall/gjson"
)

type request struct {
	Sensors []sensor  `json:"sensors"`
	Events  []eventIn `json:"events"`
}

type eventIn struct {
	Kind            string              `json:"kind"`
	EventSourceName string              `json:"eventSourceName"`
	EventName       string              `json:"eventName"`
	Body            string              `json:"body"`
	Headers         map[string][]string `json:"headers"`
	MessageID       string              `json:"messageId"`
}

type sensor struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Dependencies []dependency `json:"dependencies"`
		Triggers     []trigger    `json:"triggers"`
	} `json:"spec"`
}

type dependency struct {
	Name                   string  `json:"name"`
	EventSourceName        string  `json:"eventSourceName"`
	EventName              string  `json:"eventName"`
	Filters                *filter `json:"filters"`
	FiltersLogicalOperator string  `json:"filtersLogicalOperator"`
}

type filter struct {
	Exprs               []exprFilter    `json:"exprs"`
	Data                []dataFilter    `json:"data"`
	Context             json.RawMessage `json:"context"`
	Time                json.RawMessage `json:"time"`
	Script              string          `json:"script"`
	ExprLogicalOperator string          `json:"exprLogicalOperator"`
	DataLogicalOperator string          `json:"dataLogicalOperator"`
}

type exprFilter struct {
	Expr   string `json:"expr"`
	Fields []struct {
		Name string `json:"name"`
		Path string `json:"path"`
	} `json:"fields"`
}

type dataFilter struct {
	Path       string   `json:"path"`
	Type       string   `json:"type"`
	Value      []string `json:"value"`
	Comparator string   `json:"comparator"`
	Template   string   `json:"template"`
}

type parameter struct {
	Src struct {
		DependencyName  string  `json:"dependencyName"`
		DataKey         string  `json:"dataKey"`
		DataTemplate    string  `json:"dataTemplate"`
		ContextKey      string  `json:"contextKey"`
		ContextTemplate string  `json:"contextTemplate"`
		Value           *string `json:"value"`
		UseRawData      bool    `json:"useRawData"`
	} `json:"src"`
	Dest      string `json:"dest"`
	Operation string `json:"operation"`
}

type trigger struct {
	Template struct {
		Name         string `json:"name"`
		K8s          *struct{ Parameters []parameter `json:"parameters"` } `json:"k8s"`
		ArgoWorkflow *struct{ Parameters []parameter `json:"parameters"` } `json:"argoWorkflow"`
		HTTP         *struct {
			Payload        []parameter `json:"payload"`
			DynamicHeaders []parameter `json:"dynamicHeaders"`
			Parameters     []parameter `json:"parameters"`
		} `json:"http"`
	} `json:"template"`
	Parameters []parameter `json:"parameters"`
}

type dependencyOutcome struct {
	Sensor     string `json:"sensor"`
	Dependency string `json:"dependency"`
	Pass       bool   `json:"pass"`
	Error      string `json:"error,omitempty"`
}

type parameterOutcome struct {
	Sensor  string  `json:"sensor"`
	Trigger string  `json:"trigger"`
	Where   string  `json:"where"`
	Index   int     `json:"index"`
	Value   *string `json:"value"`
	Type    string  `json:"type"`
	Error   string  `json:"error,omitempty"`
}

type eventOut struct {
	Data         *string             `json:"data"`
	Dropped      string              `json:"dropped,omitempty"`
	Dependencies []dependencyOutcome `json:"dependencies"`
	Parameters   []parameterOutcome  `json:"parameters"`
}

// eventData is what the webhook and SQS (jsonBody) event sources publish: json.Marshal of
// their event structs, the raw body carried as a json.RawMessage (so it is validated,
// compacted and HTML-escaped, numbers and other escapes kept as written).
func eventData(e eventIn) ([]byte, error) {
	body := json.RawMessage(e.Body)
	switch e.Kind {
	case "webhook":
		header := http.Header{}
		for name, values := range e.Headers {
			for _, v := range values {
				header.Add(name, v) // canonicalizes the name, as net/http's server does
			}
		}
		return json.Marshal(struct {
			Header http.Header      `json:"header"`
			Body   *json.RawMessage `json:"body"`
		}{header, &body})
	case "sqs":
		return json.Marshal(struct {
			MessageID         string                 `json:"messageId"`
			MessageAttributes map[string]interface{} `json:"messageAttributes"`
			Body              interface{}            `json:"body"`
		}{e.MessageID, map[string]interface{}{}, &body})
	}
	return nil, fmt.Errorf("unknown event kind %q", e.Kind)
}

func filterEvent(f *filter, operator string, data []byte) (bool, error) {
	if f == nil {
		return true, nil
	}
	if f.Script != "" || len(f.Time) > 0 || len(f.Context) > 0 {
		return false, fmt.Errorf("the oracle evaluates exprs and data filters only")
	}
	or := operator == "or"
	var messages []string
	exprPass, err := filterExprs(f.Exprs, f.ExprLogicalOperator == "or", data)
	if err != nil {
		if !or {
			return false, err
		}
		messages = append(messages, err.Error())
	}
	dataPass, err := filterData(f.Data, f.DataLogicalOperator == "or", data)
	if err != nil {
		if !or {
			return false, err
		}
		messages = append(messages, err.Error())
	}
	if or {
		pass := (f.Exprs != nil && exprPass) || (f.Data != nil && dataPass)
		if len(messages) > 0 {
			return pass, fmt.Errorf("%s", strings.Join(messages, " / "))
		}
		return pass, nil
	}
	return exprPass && dataPass, nil
}

func filterExprs(filters []exprFilter, or bool, data []byte) (bool, error) {
	if filters == nil {
		return true, nil
	}
	if !gjson.ValidBytes(data) {
		return false, fmt.Errorf("expr filter error (event data not valid JSON)")
	}
	var messages []string
next:
	for _, f := range filters {
		parameters := map[string]interface{}{}
		for _, field := range f.Fields {
			r := gjson.GetBytes(data, field.Path)
			if !r.Exists() {
				msg := fmt.Sprintf("path '%s' does not exist", field.Path)
				if or {
					messages = append(messages, msg)
					continue next
				}
				return false, fmt.Errorf("expr filter error (%s)", msg)
			}
			parameters[field.Name] = r.Value()
		}
		if len(parameters) == 0 {
			continue
		}
		expression, err := govaluate.NewEvaluableExpression(f.Expr)
		if err == nil {
			var result interface{}
			result, err = expression.Evaluate(parameters)
			if err == nil {
				if result == true && or {
					return true, nil
				}
				if result != true && !or {
					return false, nil
				}
				continue
			}
		}
		if !or {
			return false, fmt.Errorf("expr filter error (%s)", err.Error())
		}
		messages = append(messages, err.Error())
	}
	if or {
		if len(messages) > 0 {
			return false, fmt.Errorf("expr filter errors [%s]", strings.Join(messages, " / "))
		}
		return false, nil
	}
	return true, nil
}

func filterData(filters []dataFilter, or bool, data []byte) (bool, error) {
	if len(filters) == 0 {
		return true, nil
	}
	if !gjson.ValidBytes(data) {
		return false, fmt.Errorf("data filter error (event data not valid JSON)")
	}
	var messages []string
	fail := func(msg string) error {
		if or {
			messages = append(messages, msg)
			return nil
		}
		return fmt.Errorf("data filter error (%s)", msg)
	}
next:
	for _, f := range filters {
		r := gjson.GetBytes(data, f.Path)
		if !r.Exists() {
			if err := fail(fmt.Sprintf("path '%s' does not exist", f.Path)); err != nil {
				return false, err
			}
			continue
		}
		if len(f.Value) == 0 {
			if err := fail("no values specified"); err != nil {
				return false, err
			}
			continue
		}
		if f.Template != "" {
			out, err := render(f.Template, r.String())
			if err == nil && (out == "" || out == "<no value>") {
				err = fmt.Errorf("template '%s' evaluated to empty string or no value", f.Template)
			}
			if err != nil {
				if e := fail(err.Error()); e != nil {
					return false, e
				}
				continue
			}
			r = gjson.Parse(strconv.Quote(out))
		}
		matched := false
		for _, value := range f.Value {
			var ok bool
			switch f.Type {
			case "bool":
				want, err := strconv.ParseBool(value)
				if err != nil {
					if e := fail(err.Error()); e != nil {
						return false, e
					}
					continue next
				}
				ok = want == r.Bool()
			case "number":
				want, err := strconv.ParseFloat(value, 64)
				if err != nil {
					if e := fail(err.Error()); e != nil {
						return false, e
					}
					continue next
				}
				ok = compare(r.Float(), want, f.Comparator)
			case "string":
				re, err := regexp.Compile(value)
				if err != nil {
					if e := fail(err.Error()); e != nil {
						return false, e
					}
					continue next
				}
				hit := re.MatchString(r.String())
				ok = (hit && (f.Comparator == "" || f.Comparator == "=")) || (!hit && f.Comparator == "!=")
			default:
				if e := fail(fmt.Sprintf("unsupported JSON type '%s'", f.Type)); e != nil {
					return false, e
				}
				continue next
			}
			if ok {
				matched = true
				break
			}
		}
		if matched && or {
			return true, nil
		}
		if !matched && !or {
			return false, nil
		}
	}
	if or {
		if len(messages) > 0 {
			return false, fmt.Errorf("data filter errors [%s]", strings.Join(messages, " / "))
		}
		return false, nil
	}
	return true, nil
}

func compare(actual, want float64, comparator string) bool {
	switch comparator {
	case ">=":
		return actual >= want
	case ">":
		return actual > want
	case "<":
		return actual < want
	case "<=":
		return actual <= want
	case "!=":
		return actual != want
	case "=", "":
		return actual == want
	}
	return false
}

func render(text string, input interface{}) (string, error) {
	tpl, err := template.New("param").Funcs(sprig.TxtFuncMap()).Parse(text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, map[string]interface{}{"Input": input}); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// resolve follows params.go ResolveParamValue for a dependency whose event is present (the
// oracle is asked only about parameters of a dependency the event passed), data side only.
func resolve(p parameter, data []byte) (*string, string, error) {
	src := p.Src
	if src.ContextKey != "" || src.ContextTemplate != "" {
		return nil, "", fmt.Errorf("the oracle does not resolve context parameters")
	}
	if src.DataKey == "" && src.DataTemplate == "" {
		if src.Value != nil {
			v := *src.Value
			return &v, "String", nil
		}
		return nil, "", fmt.Errorf("the oracle does not render whole events")
	}
	var lastErr error
	if src.DataTemplate != "" {
		out, err := render(src.DataTemplate, gjson.ParseBytes(data).Value())
		if err == nil && (out == "" || out == "<no value>") {
			err = fmt.Errorf("template evaluated to empty string or no value: %s", src.DataTemplate)
		}
		if err == nil {
			return &out, "String", nil
		}
		lastErr = err
	}
	if src.DataKey != "" {
		r := gjson.GetBytes(data, src.DataKey)
		if r.Exists() {
			typ := r.Type.String()
			v := r.String()
			if typ == "JSON" || r.Type == gjson.Null {
				v = r.Raw
			}
			return &v, typ, nil
		}
		lastErr = fmt.Errorf("key %s does not exist to in the event payload", src.DataKey)
	}
	if src.Value != nil {
		v := *src.Value
		return &v, "String", nil
	}
	return nil, "", fmt.Errorf("unable to resolve '%s' parameter value. err: %v", src.DependencyName, lastErr)
}

func evaluate(sensors []sensor, e eventIn) eventOut {
	out := eventOut{Dependencies: []dependencyOutcome{}, Parameters: []parameterOutcome{}}
	data, err := eventData(e)
	if err != nil {
		out.Dropped = err.Error()
		return out
	}
	text := string(data)
	out.Data = &text
	for _, s := range sensors {
		passed := map[string]bool{}
		for _, d := range s.Spec.Dependencies {
			if d.EventSourceName != e.EventSourceName || d.EventName != e.EventName {
				continue
			}
			pass, err := filterEvent(d.Filters, d.FiltersLogicalOperator, data)
			o := dependencyOutcome{Sensor: s.Metadata.Name, Dependency: d.Name, Pass: pass && err == nil}
			if err != nil {
				o.Error = err.Error()
			}
			out.Dependencies = append(out.Dependencies, o)
			passed[d.Name] = o.Pass
		}
		for _, t := range s.Spec.Triggers {
			lists := map[string][]parameter{"trigger": t.Parameters}
			if t.Template.K8s != nil {
				lists["k8s"] = t.Template.K8s.Parameters
			}
			if t.Template.ArgoWorkflow != nil {
				lists["argoWorkflow"] = t.Template.ArgoWorkflow.Parameters
			}
			if t.Template.HTTP != nil {
				lists["http.payload"] = t.Template.HTTP.Payload
				lists["http.dynamicHeaders"] = t.Template.HTTP.DynamicHeaders
				lists["http.parameters"] = t.Template.HTTP.Parameters
			}
			for _, where := range []string{"trigger", "k8s", "argoWorkflow", "http.payload", "http.dynamicHeaders", "http.parameters"} {
				for i, p := range lists[where] {
					if !passed[p.Src.DependencyName] {
						continue
					}
					value, typ, err := resolve(p, data)
					o := parameterOutcome{Sensor: s.Metadata.Name, Trigger: t.Template.Name, Where: where, Index: i, Value: value, Type: typ}
					if err != nil {
						o.Error = err.Error()
					}
					out.Parameters = append(out.Parameters, o)
				}
			}
		}
	}
	return out
}

func main() {
	var req request
	decoder := json.NewDecoder(bufio.NewReader(os.Stdin))
	if err := decoder.Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "argo-events-oracle: cannot read the request: %v\n", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range req.Events {
		if err := enc.Encode(evaluate(req.Sensors, e)); err != nil {
			fmt.Fprintf(os.Stderr, "argo-events-oracle: %v\n", err)
			os.Exit(2)
		}
	}
}
