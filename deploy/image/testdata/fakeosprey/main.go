// Command fakeosprey stands in for the osprey binary in the image tests: it is tiny, so the test that builds,
// unpacks and runs an image stays fast.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Printf("osprey fake-test-binary args=%s\n", strings.Join(os.Args[1:], " "))
		return
	}
	fmt.Fprintln(os.Stderr, "usage: osprey version")
	os.Exit(2)
}
