// Package analytics turns votes into leaderboards: online Elo with Chatbot
// Arena's conventions, exact Bradley–Terry maximum likelihood with seeded
// bootstrap intervals, win matrices and style control.
//
// Battles are held in a compact columnar Dataset (a few bytes per battle),
// read from Arena battle files (JSON, JSONL, CSV) or built from rlhf.Records.
// A fit works on per-pair counts, so after one counting pass its cost depends
// on the number of models, not the number of battles.
package analytics
