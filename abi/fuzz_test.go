package abi_test

import (
	"bytes"
	"reflect"
	"slices"
	"testing"

	"github.com/wraft/wraft/abi"
	"github.com/wraft/wraft/engine"
)

// The fuzzers check that the decoders never panic and that whatever they
// accept re-encodes to the very same bytes and decodes to the same value.
// Their seed corpora are the encodings of the shared test vectors.

func FuzzDecodeInputs(f *testing.F) {
	for _, v := range vectors() {
		if v.kind == "inputs" {
			f.Add(v.encode())
		}
	}
	// A batch with one input whose frame holds broken contents.
	f.Add([]byte{abi.Version, 3, 1, 3, 9, 2, 7, 0, 4, 1, 1, 'k', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := abi.DecodeInputs(b)
		if err != nil {
			return
		}
		again := abi.AppendInputs(nil, in)
		// An input that did not decode stands as an engine.Malformed,
		// which encodes in its own way.
		malformed := slices.ContainsFunc(in, func(x engine.Input) bool { _, ok := x.(engine.Malformed); return ok })
		if !malformed && !bytes.Equal(again, b) {
			t.Fatalf("re-encoded: have % x, want % x", again, b)
		}
		in2, err := abi.DecodeInputs(again)
		if err != nil || !reflect.DeepEqual(in2, in) {
			t.Fatalf("decoded again: have %+v, %v, want %+v, nil", in2, err, in)
		}
	})
}

func FuzzDecodeEffects(f *testing.F) {
	for _, v := range vectors() {
		if v.kind == "effects" {
			f.Add(v.encode())
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		effs, err := abi.DecodeEffects(b)
		if err != nil {
			return
		}
		again := abi.AppendEffects(nil, effs)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded: have % x, want % x", again, b)
		}
		effs2, err := abi.DecodeEffects(again)
		if err != nil || !reflect.DeepEqual(effs2, effs) {
			t.Fatalf("decoded again: have %+v, %v, want %+v, nil", effs2, err, effs)
		}
	})
}

func FuzzDecodeInit(f *testing.F) {
	for _, v := range vectors() {
		if v.kind == "init" {
			f.Add(v.encode())
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, rs, err := abi.DecodeInit(b)
		if err != nil {
			return
		}
		again := abi.AppendInit(nil, cfg, rs)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded: have % x, want % x", again, b)
		}
		cfg2, rs2, err := abi.DecodeInit(again)
		if err != nil || !reflect.DeepEqual(cfg2, cfg) || !reflect.DeepEqual(rs2, rs) {
			t.Fatalf("decoded again: have %+v, %+v, %v, want %+v, %+v, nil", cfg2, rs2, err, cfg, rs)
		}
	})
}
