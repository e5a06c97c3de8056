using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Security.Tls;

namespace MoltBot.Cli;

/// <summary>`cert dev`: a self-signed certificate (PEM) for local HTTPS, and the configuration lines that use it.</summary>
public static class CertVerb
{
    public static Command Create()
    {
        var cert = new Command("cert", "TLS certificates.");
        var output = new Option<string?>("--out") { Description = "Folder for dev-cert.pem and dev-key.pem (default: data/certs)." };
        var days = new Option<int>("--days") { Description = "Validity in days (1..825).", DefaultValueFactory = _ => 365 };
        var hosts = new Option<string[]>("--host") { Description = "Extra DNS name or IP for the certificate (repeatable); localhost, 127.0.0.1 and ::1 are always in." };
        var dev = new Command("dev", "Create a self-signed certificate for local use (not for production).") { TreatUnmatchedTokensAsErrors = false };
        dev.Options.Add(output);
        dev.Options.Add(days);
        dev.Options.Add(hosts);
        dev.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            int d = parse.GetValue(days);
            if (d is < 1 or > 825)
            {
                await Console.Error.WriteLineAsync("moltbot: --days must be between 1 and 825.");
                return 2;
            }
            var context = SecurityCliContext.Load(parse.UnmatchedTokens.ToArray());
            string dir = Path.GetFullPath(parse.GetValue(output) ?? context.Paths.Data("certs"));
            using var certificate = DevCertificate.Create(parse.GetValue(hosts) ?? [], d, TimeProvider.System);
            var (certPath, keyPath) = DevCertificate.WritePem(certificate, dir);
            Console.WriteLine($"certificate: {certPath}");
            Console.WriteLine($"private key: {keyPath} (mode 0600)");
            Console.WriteLine($"valid until: {certificate.NotAfter.ToUniversalTime():u}; SHA-256 thumbprint {certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)}");
            Console.WriteLine("Serve HTTPS (TLS 1.3 only by default) with:");
            Console.WriteLine($"  MOLTBOT__Kestrel__Endpoints__Https__Url=https://127.0.0.1:8443 MOLTBOT__Kestrel__Endpoints__Https__Certificate__Path={certPath} MOLTBOT__Kestrel__Endpoints__Https__Certificate__KeyPath={keyPath} moltbot run");
            return 0;
        }));
        cert.Subcommands.Add(dev);
        return cert;
    }
}
