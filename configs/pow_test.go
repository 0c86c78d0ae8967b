package configs

import (
	"errors"
	"testing"
)

// TestProofOfWorkConfig: off by default; a setting within 0..32 bits and
// a positive ttl parses; anything else names its field.
func TestProofOfWorkConfig(t *testing.T) {
	c, err := Parse([]byte("proof_of_work:\n  bits: 22\n"))
	if err != nil || c.ProofOfWork.Bits != 22 || c.ProofOfWork.TTL.D() <= 0 {
		t.Fatalf("bits 22: %+v, %v", c.ProofOfWork, err)
	}
	if c, _ := Parse(Default); c.ProofOfWork.Bits != 0 {
		t.Errorf("the default asks %d bits of work, want 0 (off)", c.ProofOfWork.Bits)
	}
	var fe *FieldError
	for yaml, field := range map[string]string{"bits: 33": "proof_of_work.bits", "bits: -1": "proof_of_work.bits", "ttl: 0s": "proof_of_work.ttl"} {
		if _, err := Parse([]byte("proof_of_work:\n  " + yaml + "\n")); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v, want an error naming %s", yaml, err, field)
		}
	}
}
