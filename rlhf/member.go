package rlhf

import "time"

// Member is a contributor's account: optional, it lets one person keep one
// contributor id across devices and sign in with a passkey or an OpenID
// Connect issuer. Lab and researcher accounts are Accounts; members vote.
type Member struct {
	ID          string    `json:"id"`             // "m_" and 24 hex digits
	Contributor string    `json:"contributor_id"` // the contributor id the member votes as
	Name        string    `json:"name"`
	CreatedAt   time.Time `json:"created_at"`
	// Linked are the contributor ids that signed in to the member, the
	// member's own first: the votes of each stay under that id.
	Linked []string `json:"linked_contributors"`
}

// MemberSession is one signed-in device: a contributor token that carries
// its id is valid until it expires or the session is revoked.
type MemberSession struct {
	ID        string    `json:"id"`
	Member    string    `json:"member"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Passkey is one WebAuthn credential of a member. Data is the credential
// as the WebAuthn library keeps it (public key, sign count, flags).
type Passkey struct {
	ID        []byte    `json:"id"`
	Member    string    `json:"member"`
	Data      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UsedAt    time.Time `json:"used_at,omitzero"`
}
