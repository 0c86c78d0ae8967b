package arena

import (
	"context"

	"github.com/agora-rlhf/agora/rlhf"
)

// Consents finds the consent contributors chose for their future votes.
type Consents interface {
	// ConsentDefaults returns a contributor's choice, or rlhf.ENotFound
	// when they made none.
	ConsentDefaults(ctx context.Context, contributor string) (*rlhf.Consent, error)
}

// consent gives v the scope and licence its contributor chose, or the
// operator's default when they chose none. A licence left empty by the
// contributor is the operator's.
func (a *Arena) consent(ctx context.Context, v *rlhf.Vote) error {
	c := a.cfg.DefaultConsent
	if a.cfg.Consents != nil {
		got, err := a.cfg.Consents.ConsentDefaults(ctx, v.ContributorID)
		switch {
		case err == nil:
			c.Scope = got.Scope
			if got.Licence != "" {
				c.Licence = got.Licence
			}
		case rlhf.ErrorCode(err) != rlhf.ENotFound:
			return storeError("read your consent", err)
		}
	}
	v.Scope, v.Licence = c.Scope, c.Licence
	return nil
}
