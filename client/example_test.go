package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wraft/wraft/client"
)

// A client of a three-node cluster. Any of the nodes may be down, frozen
// or slow: the client finds the leader among the others, and each
// request keeps within its context's deadline.
func Example() {
	c, err := client.New([]string{"127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"})
	if err != nil {
		panic(err)
	}
	// Optional: how soon a node that answers nothing is given up on, and
	// for how long it is then passed over.
	c.StallTimeout = 300 * time.Millisecond
	c.SuspectFor = 10 * time.Second

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := c.Set(ctx, "temperature", []byte("72.5"))
	if err != nil {
		fmt.Println("write failed:", err)
		return
	}
	fmt.Println("committed at index", rep.Index)
	if rep, err := c.Get(ctx, "temperature", false); err == nil && rep.Found {
		fmt.Println("read", rep.Value)
	}
}
