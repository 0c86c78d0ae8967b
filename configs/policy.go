package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/agora-rlhf/agora/arena/policy"
)

// DefaultPolicy is the embedded default leaderboard policy.
//
//go:embed policy.yaml
var DefaultPolicy []byte

// ParsePolicy reads a leaderboard policy file. Every field must be given
// (a policy is published as it is, without hidden defaults) and unknown
// fields are errors.
func ParsePolicy(data []byte) (*policy.Policy, error) {
	var p policy.Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("policy: the file is empty")
		}
		return nil, fmt.Errorf("policy: %w", err)
	}
	var fields map[string]any
	if err := yaml.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	for _, f := range []string{"version", "min_votes", "max_unlisted_per_lab", "variants", "sampling"} {
		if _, ok := fields[f]; !ok {
			return nil, fmt.Errorf("policy: %s is missing", f)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}
