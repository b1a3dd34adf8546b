package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// listedPackage is the part of `go list -json` output Load reads.
type listedPackage struct {
	Dir          string
	ImportPath   string
	GoFiles      []string
	TestGoFiles  []string
	XTestGoFiles []string
	Module       *struct{ Path string }
}

// Load lists the packages of the module in dir with `go list -json` and
// reads each file's imports, so a violation names its file. It returns the
// module path and the files.
func Load(dir string) (string, []File, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("module dir: %w", err)
	}
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list: %w: %s", err, stderr.Bytes())
	}
	var module string
	var files []File
	fset := token.NewFileSet()
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", nil, fmt.Errorf("decode go list: %w", err)
		}
		if p.Module == nil {
			return "", nil, fmt.Errorf("package %s is outside a module", p.ImportPath)
		}
		module = p.Module.Path
		_, pkg := projectPath(module, p.ImportPath)
		for _, set := range []struct {
			names []string
			test  bool
		}{{p.GoFiles, false}, {p.TestGoFiles, true}, {p.XTestGoFiles, true}} {
			for _, name := range set.names {
				path := filepath.Join(p.Dir, name)
				f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
				if err != nil {
					return "", nil, fmt.Errorf("parse imports: %w", err)
				}
				rel, _ := filepath.Rel(dir, path)
				file := File{Pkg: pkg, Path: filepath.ToSlash(rel), Test: set.test}
				for _, is := range f.Imports {
					imp, err := strconv.Unquote(is.Path.Value)
					if err != nil {
						return "", nil, fmt.Errorf("%s: import %s: %w", path, is.Path.Value, err)
					}
					file.Imports = append(file.Imports, imp)
				}
				files = append(files, file)
			}
		}
	}
	if module == "" || strings.TrimSpace(string(out)) == "" {
		return "", nil, errors.New("go list found no packages")
	}
	return module, files, nil
}
