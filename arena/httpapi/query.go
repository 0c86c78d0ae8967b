package httpapi

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// badParam is the error for a query parameter that is not what it should be.
func badParam(q url.Values, name, want string) error {
	return rlhf.Errorf(rlhf.EInvalid, "query parameter %s=%q: want %s", name, q.Get(name), want)
}

// queryTime reads a time parameter: RFC 3339 or YYYY-MM-DD; absent is zero.
func queryTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if t, err = time.Parse("2006-01-02", v); err != nil {
			return time.Time{}, badParam(q, name, "RFC 3339 (2024-05-01T00:00:00Z) or YYYY-MM-DD")
		}
	}
	return t, nil
}

// queryList reads a list parameter: comma-separated, and may repeat.
func queryList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// queryBool reads a boolean parameter; absent is false.
func queryBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badParam(q, name, "true or false")
	}
	return b, nil
}
