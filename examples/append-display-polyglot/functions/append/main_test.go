// Unit tests of `append`: `go test ./...` in this folder (no module proxy needed).
package main

import (
	"errors"
	"testing"

	"append/flowapp"
)

func text(s string) *string { return &s }

func TestAppendsTheSuffix(t *testing.T) {
	out, err := Handle(flowapp.TestContext("e1"), Input{Message: text("hello"), Suffix: text("?")})
	if err != nil || out.Message != "hello?" {
		t.Fatalf("got %v, %v", out, err)
	}
}

func TestTheDefaultSuffixIsAnExclamationMark(t *testing.T) {
	out, _ := Handle(flowapp.TestContext("e1"), Input{Message: text("hi")})
	if out.Message != "hi!" {
		t.Fatalf("got %q", out.Message)
	}
}

func TestAMissingMessageIsA422(t *testing.T) {
	_, err := Handle(flowapp.TestContext("e1"), Input{})
	var problem *flowapp.FunctionError
	if !errors.As(err, &problem) || problem.Status != 422 {
		t.Fatalf("got %v", err)
	}
}
