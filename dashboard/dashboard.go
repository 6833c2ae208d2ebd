// Package dashboard embeds the browser dashboard that `make build` built
// (web/dist-app), so that `wraft demo` can serve it from its own binary.
//
// The files are a build product and are not in version control: `make
// build` copies them into site/. Without them the package still compiles
// (site/ always holds its README) and FS returns ErrNotBuilt.
package dashboard

import (
	"embed"
	"errors"
	"io/fs"
)

//go:embed site
var files embed.FS

// ErrNotBuilt is returned by FS when no dashboard was embedded.
var ErrNotBuilt = errors.New("dashboard: not embedded in this binary: run `make build`, then build again")

// FS returns the dashboard's files, index.html at the root.
func FS() (fs.FS, error) {
	site, err := fs.Sub(files, "site")
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(site, "index.html"); err != nil {
		return nil, ErrNotBuilt
	}
	return site, nil
}
