// Starts flowapp's host on Handle (main.go). Generated; leave it as it is.
package main

import "append/flowapp"

func main() { flowapp.Serve(Handle) }
