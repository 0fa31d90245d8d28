package steps

// TEMPORARY: stands in for internal/msix until it lands.

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
)

type msixShim struct{}

var msix msixShim

func (msixShim) Version(path string) (string, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	for _, f := range r.File {
		if f.Name != "AppxManifest.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		defer rc.Close()
		dec := xml.NewDecoder(rc)
		for {
			tok, err := dec.Token()
			if err != nil {
				return "", err
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Identity" {
				for _, a := range se.Attr {
					if a.Name.Local == "Version" {
						return a.Value, nil
					}
				}
			}
		}
	}
	return "", fmt.Errorf("no manifest")
}

func (msixShim) WriteDemoPackage(w io.Writer, name, version string) error {
	z := zip.NewWriter(w)
	f, err := z.Create("AppxManifest.xml")
	if err != nil {
		return err
	}
	fmt.Fprintf(f, `<?xml version="1.0"?><Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10"><Identity Name="%s" Publisher="CN=Contoso" Version="%s"/></Package>`, name, version)
	return z.Close()
}
