package sim

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/wraft/wraft/kv"
)

func TestKVStep(t *testing.T) {
	missing, x := kvState{}, kvState{exists: true, value: "x"}
	tests := []struct {
		name   string
		state  kvState
		in     KVInput
		out    KVOutput
		ok     bool
		wantSt kvState
	}{
		{"get missing", missing, KVInput{Op: kv.OpGet, Key: "k"}, KVOutput{OK: true}, true, missing},
		{"get finds a missing key", missing, KVInput{Op: kv.OpGet, Key: "k"}, KVOutput{OK: true, Found: true, Value: "x"}, false, missing},
		{"get x", x, KVInput{Op: kv.OpGet, Key: "k"}, KVOutput{OK: true, Found: true, Value: "x"}, true, x},
		{"get stale", x, KVInput{Op: kv.OpGet, Key: "k"}, KVOutput{OK: true, Found: true, Value: "w"}, false, x},
		{"set new", missing, KVInput{Op: kv.OpSet, Key: "k", Value: "y"}, KVOutput{OK: true}, true, kvState{true, "y"}},
		{"set says found wrongly", missing, KVInput{Op: kv.OpSet, Key: "k", Value: "y"}, KVOutput{OK: true, Found: true}, false, kvState{true, "y"}},
		{"set unknown", x, KVInput{Op: kv.OpSet, Key: "k", Value: "y"}, KVOutput{Unknown: true}, true, kvState{true, "y"}},
		{"del", x, KVInput{Op: kv.OpDel, Key: "k"}, KVOutput{OK: true, Found: true}, true, missing},
		{"del missing", missing, KVInput{Op: kv.OpDel, Key: "k"}, KVOutput{OK: true}, true, missing},
		{"cas applies", x, KVInput{Op: kv.OpCAS, Key: "k", Expect: "x", Value: "y"}, KVOutput{OK: true, Found: true}, true, kvState{true, "y"}},
		{"cas fails on a value", x, KVInput{Op: kv.OpCAS, Key: "k", Expect: "w", Value: "y"}, KVOutput{Found: true, Value: "x"}, true, x},
		{"cas fails with the wrong value", x, KVInput{Op: kv.OpCAS, Key: "k", Expect: "w", Value: "y"}, KVOutput{Found: true, Value: "w"}, false, x},
		{"cas claims to apply but cannot", x, KVInput{Op: kv.OpCAS, Key: "k", Expect: "w", Value: "y"}, KVOutput{OK: true, Found: true}, false, x},
		{"cas missing applies", missing, KVInput{Op: kv.OpCAS, Key: "k", ExpectMissing: true, Value: "y"}, KVOutput{OK: true}, true, kvState{true, "y"}},
		{"cas missing fails", x, KVInput{Op: kv.OpCAS, Key: "k", ExpectMissing: true, Value: "y"}, KVOutput{Found: true, Value: "x"}, true, x},
		{"cas on a missing key fails", missing, KVInput{Op: kv.OpCAS, Key: "k", Expect: "x", Value: "y"}, KVOutput{}, true, missing},
		{"cas unknown that would apply", x, KVInput{Op: kv.OpCAS, Key: "k", Expect: "x", Value: "y"}, KVOutput{Unknown: true}, true, kvState{true, "y"}},
		{"cas unknown that would not", x, KVInput{Op: kv.OpCAS, Key: "k", Expect: "w", Value: "y"}, KVOutput{Unknown: true}, true, x},
	}
	for _, tt := range tests {
		ok, next := kvStep(tt.state, tt.in, tt.out)
		if ok != tt.ok || (ok && next != tt.wantSt) {
			t.Errorf("%s: step gives (%v, %+v), want (%v, %+v)", tt.name, ok, next, tt.ok, tt.wantSt)
		}
	}
}

func TestKVModelHistories(t *testing.T) {
	set := func(client int, call, ret int64, key, v string, found bool) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Call: call, Return: ret,
			Input: KVInput{Op: kv.OpSet, Key: key, Value: v}, Output: KVOutput{OK: true, Found: found}}
	}
	get := func(client int, call, ret int64, key, v string) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Call: call, Return: ret,
			Input: KVInput{Op: kv.OpGet, Key: key}, Output: KVOutput{OK: true, Found: v != "", Value: v}}
	}
	unknownSet := func(client int, call int64, key, v string) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Call: call, Return: 1000,
			Input: KVInput{Op: kv.OpSet, Key: key, Value: v}, Output: KVOutput{Unknown: true}}
	}
	tests := []struct {
		name string
		ops  []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"sequential", []porcupine.Operation{set(0, 1, 2, "a", "1", false), get(1, 3, 4, "a", "1")}, porcupine.Ok},
		{"stale read", []porcupine.Operation{set(0, 1, 2, "a", "1", false), get(1, 3, 4, "a", "")}, porcupine.Illegal},
		{"concurrent read may miss", []porcupine.Operation{set(0, 1, 4, "a", "1", false), get(1, 2, 3, "a", "")}, porcupine.Ok},
		{"keys are independent", []porcupine.Operation{set(0, 1, 2, "a", "1", false), get(1, 3, 4, "b", "")}, porcupine.Ok},
		{"unknown write seen", []porcupine.Operation{unknownSet(0, 1, "a", "1"), get(1, 5, 6, "a", "1")}, porcupine.Ok},
		{"unknown write never seen", []porcupine.Operation{unknownSet(0, 1, "a", "1"), get(1, 5, 6, "a", "")}, porcupine.Ok},
		{"unknown write seen then unseen", []porcupine.Operation{
			unknownSet(0, 1, "a", "1"), get(1, 5, 6, "a", "1"), get(1, 7, 8, "a", ""),
		}, porcupine.Illegal},
		{"lost acknowledged write", []porcupine.Operation{
			set(0, 1, 2, "a", "1", false), set(0, 3, 4, "a", "2", true), get(1, 5, 6, "a", "1"),
		}, porcupine.Illegal},
	}
	for _, tt := range tests {
		if got := porcupine.CheckOperationsTimeout(KVModel(), tt.ops, 0); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
