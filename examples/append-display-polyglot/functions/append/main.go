// The `append` function, in Go: appends a suffix (from the task's `with`, default "!") to
// a message. Input {"message": "hello", "suffix": "?"}; output {"message": "hello?"}.
//
// A typed handler: the input is decoded into Input (a JSON that does not fit, such as a
// number for "message", is answered 400 before Handle runs). flowapp/ and serve.go are
// flowapp's host.
package main

import "append/flowapp"

type Input struct {
	Message *string `json:"message"`
	Suffix  *string `json:"suffix"`
}

type Output struct {
	Message string `json:"message"`
}

func Handle(ctx flowapp.Context, in Input) (Output, error) {
	if in.Message == nil {
		// A 4xx reply is a communication error the workflow can catch; retrying won't help.
		return Output{}, flowapp.Error(422, "Missing message", "the input has no 'message' string")
	}
	suffix := "!"
	if in.Suffix != nil {
		suffix = *in.Suffix
	}
	ctx.Logger.Info("appending %q to %q", suffix, *in.Message)
	return Output{Message: *in.Message + suffix}, nil
}
