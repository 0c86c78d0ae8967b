//go:build !unix

package main

// limitFiles does nothing where there is no file limit to set.
func limitFiles(string) {}
