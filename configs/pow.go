package configs

import "fmt"

// ProofOfWork is the "proof_of_work:" section: the work a client must do
// to mint an anonymous contributor identity (docs/protocol.md, "Proof of
// work"). Bits 0 is off, the default; docs/operations.md gives the cost of each
// setting to an honest browser and to an attacker.
type ProofOfWork struct {
	Bits int      `yaml:"bits"` // leading zero bits of SHA-256 a solution needs
	TTL  Duration `yaml:"ttl"`  // how long a challenge stays valid
}

// validate checks p; at most 32 bits (2^32 hashes expected).
func (p *ProofOfWork) validate() error {
	switch {
	case p.Bits < 0 || p.Bits > 32:
		return &FieldError{"proof_of_work.bits", fmt.Sprintf("%d is not between 0 (off) and 32", p.Bits)}
	case p.TTL <= 0:
		return &FieldError{"proof_of_work.ttl", "must be positive"}
	}
	return nil
}
