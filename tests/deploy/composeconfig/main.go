// compose-config loads a Compose file with compose-go, the loader `docker compose config` runs: variables are
// interpolated from the environment (a `${VAR:?message}` left unset is an error naming VAR), the model is checked
// against the Compose specification's schema and normalised, and dependencies must name services that exist. It
// prints the resolved project as JSON, or the loader's error on stderr with exit status 1.
//
// Usage: compose-config FILE  (no .env file is read: the caller's environment is all there is)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-config FILE")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions([]string{os.Args[1]}, cli.WithOsEnv, cli.WithConsistency(true))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}
