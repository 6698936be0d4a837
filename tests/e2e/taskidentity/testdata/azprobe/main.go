// Command azprobe is what a flow author's script does with Azure from a
// shell task: it authenticates with the official Go SDK's
// ManagedIdentityCredential (the task's IDENTITY_ENDPOINT), lists a Blob
// container and reads a Key Vault secret. It prints what the test checks: the secret's digest, the
// token and header (which must come out masked), the AZURE_* variables it
// sees and whether it can read the pod's federated token file.
package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Println("azprobe:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var azure []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AZURE_") {
			azure = append(azure, k)
		}
	}
	fmt.Printf("azure variables: %d %v\n", len(azure), azure)
	if p := os.Getenv("POD_TOKEN_FILE"); p != "" {
		_, err := os.ReadFile(p)
		fmt.Printf("token file readable: %t\n", err == nil)
	}
	fmt.Println("identity header: " + os.Getenv("IDENTITY_HEADER"))

	cred, err := azidentity.NewManagedIdentityCredential(nil)
	if err != nil {
		return err
	}
	if u := os.Getenv("STORAGE_URL"); u != "" {
		svc, err := azblob.NewClient(u, cred, nil)
		if err != nil {
			return err
		}
		pager := svc.NewListBlobsFlatPager(os.Getenv("CONTAINER"), nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, b := range page.Segment.BlobItems {
				fmt.Println("blob " + *b.Name)
			}
		}
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		return err
	}
	fmt.Println("token: " + tok.Token)
	c, err := azsecrets.NewClient(os.Getenv("VAULT_URL"), cred, &azsecrets.ClientOptions{DisableChallengeResourceVerification: true})
	if err != nil {
		return err
	}
	s, err := c.GetSecret(ctx, os.Getenv("SECRET_NAME"), "", nil)
	if err != nil {
		return err
	}
	fmt.Printf("secret sha256 %x\n", sha256.Sum256([]byte(*s.Value)))
	return nil
}
