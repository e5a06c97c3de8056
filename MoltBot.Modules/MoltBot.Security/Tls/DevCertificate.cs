using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MoltBot.Security.Tls;

/// <summary>
/// A self-signed ECDSA P-256 certificate for local HTTPS (`moltbot cert dev`): subject CN=localhost, SANs for
/// localhost, 127.0.0.1 and ::1 (plus any extra host names), server-auth usage. Written as PEM: the key file 0600.
/// </summary>
public static class DevCertificate
{
    public static X509Certificate2 Create(IEnumerable<string> extraHosts, int days, TimeProvider clock)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        foreach (var host in extraHosts)
        {
            if (IPAddress.TryParse(host, out var ip)) san.AddIpAddress(ip);
            else san.AddDnsName(host);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = clock.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(days));
    }

    /// <summary>Writes {directory}/dev-cert.pem and dev-key.pem; returns their paths.</summary>
    public static (string CertPath, string KeyPath) WritePem(X509Certificate2 certificate, string directory)
    {
        Directory.CreateDirectory(directory);
        string certPath = Path.Combine(directory, "dev-cert.pem");
        string keyPath = Path.Combine(directory, "dev-key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("certificate has no ECDSA private key");
        SecureFile.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}
