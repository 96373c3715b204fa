// Command argo-when-oracle decides substituted `when` texts the way the Argo Workflows
// controller does (shouldExecute in workflow/controller): github.com/Knetic/govaluate parses
// the text, every variable token is turned into a string token, the expression is built
// again from those tokens and evaluated without parameters, and the result must be a bool.
// The TypeScript model (constructs/expressions/govaluate.ts) is held against it in
// test/constructs/govaluate.test.ts.
//
// Input on stdin: a JSON array of strings. Output: one JSON line per string,
// {"ok": true, "value": <bool>} or {"ok": false, "error": "..."}. A panic inside govaluate
// (it reads past a trailing backslash) counts as an error: Argo cannot run such a when either.
// Built in GOPATH mode against Debian's package:
// GO111MODULE=off GOPATH=/usr/share/gocode go build -o <out> ./tools/argo-when-oracle
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/Knetic/govaluate"
)

type outcome struct {
	OK    bool   `json:"ok"`
	Value bool   `json:"value"`
	Error string `json:"error,omitempty"`
}

func shouldExecute(when string) (result outcome) {
	defer func() {
		if r := recover(); r != nil {
			result = outcome{Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	if when == "" {
		return outcome{OK: true, Value: true}
	}
	expression, err := govaluate.NewEvaluableExpression(when)
	if err != nil {
		return outcome{Error: err.Error()}
	}
	tokens := expression.Tokens()
	for i, token := range tokens {
		if token.Kind == govaluate.VARIABLE {
			token.Kind = govaluate.STRING
			tokens[i] = token
		}
	}
	expression, err = govaluate.NewEvaluableExpressionFromTokens(tokens)
	if err != nil {
		return outcome{Error: err.Error()}
	}
	value, err := expression.Evaluate(nil)
	if err != nil {
		return outcome{Error: err.Error()}
	}
	b, isBool := value.(bool)
	if !isBool {
		return outcome{Error: fmt.Sprintf("Expected boolean evaluation for '%s'. Got %v", when, value)}
	}
	return outcome{OK: true, Value: b}
}

func main() {
	var whens []string
	if err := json.NewDecoder(os.Stdin).Decode(&whens); err != nil {
		fmt.Fprintln(os.Stderr, "argo-when-oracle: stdin must be a JSON array of strings:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for _, when := range whens {
		if err := encoder.Encode(shouldExecute(when)); err != nil {
			fmt.Fprintln(os.Stderr, "argo-when-oracle:", err)
			os.Exit(1)
		}
	}
}
