// Command argo-sso-rbac-oracle picks the service account Argo Server's SSO RBAC would give a
// user, the way Argo Workflows v4 does (server/auth/gatekeeper.go getServiceAccount and
// util/expr/argoexpr EvalBool): of the service accounts carrying the
// workflows.argoproj.io/rbac-rule annotation, sorted by rbac-rule-precedence (strconv.Atoi,
// 0 when missing or not a number) from high to low, the first whose rule evaluates to true
// wins; a rule that fails to compile or run, or does not give a boolean, fails the whole
// login; no match denies it. Rules are evaluated with the expr library (Debian's
// golang-github-antonmedv-expr-dev; Argo uses its successor github.com/expr-lang/expr with the
// same Compile(expr.Env(env)) + Run API) against the claims as Argo passes them: the Claims
// struct marshalled to JSON and back, so only its fields (iss, sub, aud, groups, email, name,
// preferred_username, ...) are visible and empty ones are absent (omitempty).
//
// Reads one JSON request on stdin: {"serviceAccounts": [{"name", "annotations"}],
// "users": [claims...]}, prints one JSON line per user: {"serviceAccount": name|null, "error"?}.
// Built with GOPATH mode against Debian's package:
// GO111MODULE=off GOPATH=/usr/share/gocode go build -o <out> ./tools/argo-sso-rbac-oracle
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/antonmedv/expr"
)

const (
	ruleAnnotation       = "workflows.argoproj.io/rbac-rule"
	precedenceAnnotation = "workflows.argoproj.io/rbac-rule-precedence"
)

type serviceAccount struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations"`
}

type request struct {
	ServiceAccounts []serviceAccount  `json:"serviceAccounts"`
	Users           []json.RawMessage `json:"users"`
}

// claims has the JSON fields of Argo's server/auth/types.Claims (jwt.Claims embedded); the
// raw claim map and email_verified are not marshalled there, so they are not here either.
type claims struct {
	Issuer                  string   `json:"iss,omitempty"`
	Subject                 string   `json:"sub,omitempty"`
	Audience                []string `json:"aud,omitempty"`
	Groups                  []string `json:"groups,omitempty"`
	Email                   string   `json:"email,omitempty"`
	Name                    string   `json:"name,omitempty"`
	ServiceAccountName      string   `json:"service_account_name,omitempty"`
	ServiceAccountNamespace string   `json:"service_account_namespace,omitempty"`
	PreferredUsername       string   `json:"preferred_username,omitempty"`
}

type result struct {
	ServiceAccount *string `json:"serviceAccount"`
	Error          string  `json:"error,omitempty"`
}

func precedence(sa serviceAccount) int {
	i, _ := strconv.Atoi(sa.Annotations[precedenceAnnotation])
	return i
}

func evalBool(rule string, env map[string]interface{}) (bool, error) {
	program, err := expr.Compile(rule, expr.Env(env))
	if err != nil {
		return false, err
	}
	out, err := expr.Run(program, env)
	if err != nil {
		return false, fmt.Errorf("unable to evaluate expression '%s': %w", rule, err)
	}
	allow, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("unable to cast expression result '%v' to bool", out)
	}
	return allow, nil
}

func pick(accounts []serviceAccount, raw json.RawMessage) result {
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return result{Error: err.Error()}
	}
	data, _ := json.Marshal(c)
	env := map[string]interface{}{}
	_ = json.Unmarshal(data, &env)
	var candidates []serviceAccount
	for _, sa := range accounts {
		if _, ok := sa.Annotations[ruleAnnotation]; ok {
			candidates = append(candidates, sa)
		}
	}
	sort.Slice(candidates, func(i, j int) bool { return precedence(candidates[i]) > precedence(candidates[j]) })
	for _, sa := range candidates {
		allow, err := evalBool(sa.Annotations[ruleAnnotation], env)
		if err != nil {
			return result{Error: "failed to evaluate rule: " + err.Error()}
		}
		if allow {
			name := sa.Name
			return result{ServiceAccount: &name}
		}
	}
	return result{Error: "no service account rule matches"}
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for _, user := range req.Users {
		_ = enc.Encode(pick(req.ServiceAccounts, user))
	}
}
