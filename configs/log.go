package configs

import (
	"fmt"
	"strings"
)

// Log configures the verifiable log of votes (docs/ledger.md).
type Log struct {
	// Origin names the log in its checkpoints and its key; it is fixed
	// when the key is made (DATA/log.key). Empty: "agora-" and random hex.
	Origin string `yaml:"origin"`
	// CheckpointInterval is the least time between two checkpoints
	// (default 1s).
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
	// Witnesses are the verifier keys (name+hash+base64) of the witnesses
	// whose cosignatures count; WitnessQuorum of them must cosign a
	// checkpoint before /log/checkpoint serves it as final.
	Witnesses     []string `yaml:"witnesses"`
	WitnessQuorum int      `yaml:"witness_quorum"`
}

func (l *Log) validate() error {
	switch {
	case strings.ContainsAny(l.Origin, " \t\n+"):
		return &FieldError{"log.origin", fmt.Sprintf("%q must have no spaces and no '+'", l.Origin)}
	case l.CheckpointInterval < 0:
		return &FieldError{"log.checkpoint_interval", "must not be negative"}
	case l.WitnessQuorum < 0 || l.WitnessQuorum > len(l.Witnesses):
		return &FieldError{"log.witness_quorum", fmt.Sprintf("must be between 0 and the %d witnesses listed", len(l.Witnesses))}
	}
	for _, w := range l.Witnesses {
		if len(strings.SplitN(w, "+", 3)) != 3 {
			return &FieldError{"log.witnesses", fmt.Sprintf("%q is not a verifier key name+hash+base64", w)}
		}
	}
	return nil
}
