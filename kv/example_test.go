package kv_test

import (
	"fmt"

	"github.com/wraft/wraft/kv"
)

func Example() {
	s := kv.New()

	// Commands apply in log order, each at its log index.
	s.Apply(1, kv.Command{Op: kv.OpSet, Key: "color", Value: []byte("red")})
	r := s.Apply(2, kv.Command{Op: kv.OpCAS, Key: "color", Expect: []byte("blue"), Value: []byte("green")})
	fmt.Printf("cas: ok=%v err=%q current=%s\n", r.OK, r.Err, r.Value)

	// A client session makes a retried command apply once.
	paint := kv.Command{ClientID: 42, Seq: 1, Op: kv.OpCAS, Key: "color", Expect: []byte("red"), Value: []byte("green")}
	fmt.Println("first:", s.Apply(3, paint).OK)
	fmt.Println("retry:", s.Apply(4, paint).OK) // the first result, not a failed CAS
	old := kv.Command{ClientID: 42, Seq: 0, Op: kv.OpGet, Key: "color"}
	fmt.Println("stale:", s.Apply(5, old).Err)

	// Reads served by ReadIndex use Get.
	v, found := s.Get("color")
	fmt.Printf("get: %s %v\n", v, found)

	// Invalid commands are refused, by Validate before proposing and by Apply.
	fmt.Println(kv.Validate(kv.Command{Op: kv.OpGet, Key: string(make([]byte, 300))}))

	// A snapshot restores to an identical replica.
	replica := kv.New()
	if err := replica.Restore(s.Snapshot()); err != nil {
		panic(err)
	}
	fmt.Println("same digest:", replica.Digest() == s.Digest(), "applied:", replica.Applied())
	// Output:
	// cas: ok=false err="cas: value differs" current=red
	// first: true
	// retry: true
	// stale: kv: stale sequence number 0 (session at 1)
	// get: green true
	// kv: key too long (300 > 256 bytes)
	// same digest: true applied: 5
}
