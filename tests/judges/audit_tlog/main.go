// The outside judge of our transparency log: the Go reference code of the Merkle tree (transparency-dev/merkle),
// of the checksum database's tlog and signed notes (golang.org/x/mod/sumdb) and of C2SP checkpoints and
// cosignatures (transparency-dev/formats) checks the proofs, tree heads and signatures our Python code produced.
// It reads them as JSON on standard input and writes what it found, with the reference test vectors, on standard
// output. tests/integration/test_audit_outside_judges.py runs it in a temporary module.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index  uint64   `json:"index"`
	Size   uint64   `json:"size"`
	Leaf   string   `json:"leaf"`
	Proof  []string `json:"proof"`
	Root   string   `json:"root"`
	Expect bool     `json:"expect"`
}

type consistency struct {
	First      uint64   `json:"first"`
	Second     uint64   `json:"second"`
	FirstRoot  string   `json:"first_root"`
	SecondRoot string   `json:"second_root"`
	Proof      []string `json:"proof"`
	Expect     bool     `json:"expect"`
}

type checkpoint struct {
	Note        string   `json:"note"`
	Origin      string   `json:"origin"`
	LogKey      string   `json:"log_key"`
	WitnessKeys []string `json:"witness_keys"`
	Expect      bool     `json:"expect"`
}

type input struct {
	Inclusions    []inclusion   `json:"inclusions"`
	Consistencies []consistency `json:"consistencies"`
	Checkpoints   []checkpoint  `json:"checkpoints"`
}

type parsed struct {
	Size       uint64 `json:"size"`
	Root       string `json:"root"`
	Signatures int    `json:"signatures"`
}

type output struct {
	Checked     int            `json:"checked"`
	Failures    []string       `json:"failures"`
	Checkpoints []parsed       `json:"checkpoints"`
	Reference   map[string]any `json:"reference"`
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func hashes(list []string) [][]byte {
	out := make([][]byte, len(list))
	for i, s := range list {
		out[i] = unhex(s)
	}
	return out
}

func tlogHash(b []byte) tlog.Hash {
	var h tlog.Hash
	copy(h[:], b)
	return h
}

func tlogHashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = tlogHash(unhex(s))
	}
	return out
}

func hexes(list [][]byte) []string {
	out := make([]string, len(list))
	for i, b := range list {
		out[i] = hex.EncodeToString(b)
	}
	return out
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	out := output{Failures: []string{}, Checkpoints: []parsed{}}
	judge := func(what string, ok, expect bool) {
		out.Checked++
		if ok != expect {
			out.Failures = append(out.Failures, fmt.Sprintf("%s: verified=%v, expected %v", what, ok, expect))
		}
	}
	h := rfc6962.DefaultHasher
	for _, c := range in.Inclusions {
		leaf, root := unhex(c.Leaf), unhex(c.Root)
		what := fmt.Sprintf("inclusion of leaf %d in size %d", c.Index, c.Size)
		judge("merkle "+what, proof.VerifyInclusion(h, c.Index, c.Size, leaf, hashes(c.Proof), root) == nil, c.Expect)
		judge("tlog "+what, tlog.CheckRecord(tlogHashes(c.Proof), int64(c.Size), tlogHash(root), int64(c.Index),
			tlogHash(leaf)) == nil, c.Expect)
	}
	for _, c := range in.Consistencies {
		first, second := unhex(c.FirstRoot), unhex(c.SecondRoot)
		what := fmt.Sprintf("consistency of size %d with size %d", c.First, c.Second)
		judge("merkle "+what, proof.VerifyConsistency(h, c.First, c.Second, hashes(c.Proof), first, second) == nil,
			c.Expect)
		judge("tlog "+what, tlog.CheckTree(tlogHashes(c.Proof), int64(c.Second), tlogHash(second), int64(c.First),
			tlogHash(first)) == nil, c.Expect)
	}
	for _, c := range in.Checkpoints {
		logVerifier, err := note.NewVerifier(c.LogKey)
		if err != nil {
			out.Failures = append(out.Failures, fmt.Sprintf("log key %q: %v", c.LogKey, err))
			continue
		}
		verifiers := []note.Verifier{logVerifier}
		for _, k := range c.WitnessKeys {
			v, err := fnote.NewVerifierForCosignatureV1(k)
			if err != nil {
				out.Failures = append(out.Failures, fmt.Sprintf("witness key %q: %v", k, err))
				continue
			}
			verifiers = append(verifiers, v)
		}
		opened, err := note.Open([]byte(c.Note), note.VerifierList(verifiers...))
		ok := err == nil && len(opened.Sigs) == len(verifiers)
		cp, _, _, perr := log.ParseCheckpoint([]byte(c.Note), c.Origin, logVerifier, verifiers[1:]...)
		ok = ok && perr == nil
		judge(fmt.Sprintf("checkpoint note of %s", c.Origin), ok, c.Expect)
		if ok {
			out.Checkpoints = append(out.Checkpoints, parsed{cp.Size, hex.EncodeToString(cp.Hash), len(opened.Sigs)})
		}
	}
	// The reference vectors: transparency-dev/merkle's test leaves, and every root and proof of their tree.
	tree := testonly.New(h)
	tree.AppendData(testonly.LeafInputs()...)
	roots := map[string]string{}
	var inclusions, consistencies []map[string]any
	for size := uint64(1); size <= tree.Size(); size++ {
		roots[fmt.Sprint(size)] = hex.EncodeToString(tree.HashAt(size))
		for index := uint64(0); index < size; index++ {
			p, _ := tree.InclusionProof(index, size)
			inclusions = append(inclusions, map[string]any{"index": index, "size": size, "proof": hexes(p)})
		}
		for first := uint64(1); first <= size; first++ {
			p, _ := tree.ConsistencyProof(first, size)
			consistencies = append(consistencies, map[string]any{"first": first, "second": size, "proof": hexes(p)})
		}
	}
	out.Reference = map[string]any{"leaf_inputs": hexes(testonly.LeafInputs()), "roots": roots,
		"inclusions": inclusions, "consistencies": consistencies}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
