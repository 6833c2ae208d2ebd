package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wraft/wraft/api"
	"github.com/wraft/wraft/kv"
	"github.com/wraft/wraft/wire"
)

// The API checks every limit of the core before a request reaches it, so
// that both cores answer the same refusal, with the limit in its text, and
// a request the core would refuse costs it nothing.

// checkCommand reports whether cmd is within the key-value limits: 0 and
// "" if it is, else the HTTP status to answer (413 for a value or CAS
// expectation too long, 400 for the rest) and the message, such as
// "server: key too long (300 > 256 bytes)".
func checkCommand(cmd kv.Command) (int, string) {
	err := kv.Validate(cmd)
	if err == nil {
		return 0, ""
	}
	code := http.StatusBadRequest
	if errors.Is(err, kv.ErrValueTooLong) || errors.Is(err, kv.ErrExpectTooLong) {
		code = http.StatusRequestEntityTooLarge
	}
	return code, "server: " + strings.TrimPrefix(err.Error(), "kv: ")
}

// tooLong is the message for something over its limit: "server: what too
// long (have > max bytes)", or "(more than max bytes)" when have is not
// known.
func tooLong(what string, have int64, max int) string {
	if have > int64(max) {
		return fmt.Sprintf("server: %s too long (%d > %d bytes)", what, have, max)
	}
	return fmt.Sprintf("server: %s too long (more than %d bytes)", what, max)
}

// readBody reads r's body, at most max bytes. Over that it answers 413
// (naming what the body is) and returns false; it refuses a body whose
// declared length is over max without reading it.
func readBody(w http.ResponseWriter, r *http.Request, what string, max int) ([]byte, bool) {
	if r.ContentLength > int64(max) {
		writeError(w, http.StatusRequestEntityTooLarge, tooLong(what, r.ContentLength, max))
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(max)))
	if err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			writeError(w, http.StatusRequestEntityTooLarge, tooLong(what, -1, max))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "server: read body: "+err.Error())
		return nil, false
	}
	return b, true
}

// parseAbsent reads ?absent=: 1 or true (any spelling strconv.ParseBool
// takes) asks for a CAS on a missing key, 0 or false for none.
func parseAbsent(q map[string][]string) (bool, error) {
	vs, ok := q["absent"]
	if !ok {
		return false, nil
	}
	if len(vs) != 1 {
		return false, errors.New("server: absent is given more than once")
	}
	b, err := strconv.ParseBool(vs[0])
	if err != nil {
		return false, fmt.Errorf("server: absent must be 1, true, 0 or false, not %s", strconv.Quote(vs[0]))
	}
	return b, nil
}

// checkMember wraps the handler of POST /v1/members: it refuses a body
// over maxMemberBody (413) and a member whose address, as the core would
// store it, is over wire.MaxAddrBytes (400). A body it cannot decode is
// left to the handler, which says why.
func checkMember(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBody(w, r, "body", maxMemberBody)
		if !ok {
			return
		}
		var req api.AddMember
		if json.Unmarshal(body, &req) == nil {
			apiURL := req.API
			if norm, err := normalizeAPI(req.API); err == nil && req.API != "" {
				apiURL = norm
			}
			if addr := FormatAddr(req.Raft, apiURL); len(addr) > wire.MaxAddrBytes {
				writeError(w, http.StatusBadRequest, tooLong("member address", int64(len(addr)), wire.MaxAddrBytes))
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		h(w, r)
	}
}
