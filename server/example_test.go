package server_test

import (
	"fmt"

	"github.com/ospreyhq/osprey/server"
)

// The CLI derives the API's address from the configured host and auth:
// without credentials the API stays on loopback and says why.
func ExampleListenAddr() {
	addr, notice := server.ListenAddr("0.0.0.0", 8080, nil, false)
	fmt.Println(addr)
	fmt.Println(notice != "")

	addr, notice = server.ListenAddr("0.0.0.0", 8080, &server.BasicAuth{Username: "admin", Password: "pw"}, false)
	fmt.Println(addr, notice == "")
	// Output:
	// 127.0.0.1:8080
	// true
	// 0.0.0.0:8080 true
}
