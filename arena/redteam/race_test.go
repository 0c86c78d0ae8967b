//go:build race

package redteam

const raceEnabled = true
