using System.Net;
using System.Net.Sockets;

namespace VQToken.Ingestion.Url;

/// <summary>Decides which addresses a URL fetch may connect to (the server-side request forgery guard).
/// IPv6 forms that carry an IPv4 address are judged by the IPv4 address inside: IPv4-mapped ::ffff:a.b.c.d,
/// IPv4-translated ::ffff:0:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 and the local-use
/// 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32 (server and client) and ISATAP interface ids.</summary>
public static class AddressGuard
{
    /// <summary>Instance metadata and platform endpoints of the clouds (AWS, Azure, GCP, Alibaba, Tencent,
    /// Oracle): refused even with private addresses allowed.</summary>
    private static readonly IPAddress[] MetadataV4 =
    [
        IPAddress.Parse("168.63.129.16"),     // Azure WireServer (a public address)
        IPAddress.Parse("100.100.100.200"),   // Alibaba Cloud metadata
        IPAddress.Parse("192.0.0.192"),       // Oracle Cloud metadata
    ];

    private static readonly IPAddress[] MetadataV6 =
    [
        IPAddress.Parse("fd20:ce::254"),      // GCP metadata over IPv6
    ];

    /// <summary>Public addresses always; with <paramref name="allowPrivate"/> (on-prem) also loopback,
    /// private, CGNAT, link-local and unique-local. Never metadata, multicast, unspecified, broadcast, reserved.</summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivate) => IsAllowed(Classify(address), allowPrivate);

    private static bool IsAllowed(AddressRange range, bool allowPrivate) => range switch
    {
        AddressRange.Public => true,
        AddressRange.Loopback or AddressRange.Private or AddressRange.SharedAddressSpace
            or AddressRange.LinkLocal or AddressRange.UniqueLocal => allowPrivate,
        _ => false,
    };

    public static AddressRange Classify(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork) return ClassifyV4(address.GetAddressBytes());
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return AddressRange.Reserved;

        var b = address.GetAddressBytes();
        var own = ClassifyV6(b);
        // An embedded IPv4 address decides when it is refused more often than the IPv6 address around it.
        foreach (var embedded in EmbeddedV4(b))
        {
            var inner = ClassifyV4(embedded);
            if (Strictness(inner) > Strictness(own)) own = inner;
        }
        return own;
    }

    /// <summary>The IPv4 addresses an IPv6 address may deliver to (RFC 4291, 6052, 6145, 3056, 4380, 5214, 8215).</summary>
    private static IEnumerable<byte[]> EmbeddedV4(byte[] b)
    {
        bool Zero(int from, int count) => b.AsSpan(from, count).IndexOfAnyExcept((byte)0) < 0;

        if (Zero(0, 10) && b[10] == 0xff && b[11] == 0xff) yield return b[12..];            // ::ffff:a.b.c.d mapped
        if (Zero(0, 8) && b[8] == 0xff && b[9] == 0xff && Zero(10, 2)) yield return b[12..]; // ::ffff:0:a.b.c.d translated
        if (Zero(0, 12) && !(Zero(12, 3) && b[15] <= 1)) yield return b[12..];               // ::a.b.c.d compatible (not :: or ::1)
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
        {
            if (Zero(4, 8)) yield return b[12..];                                            // 64:ff9b::/96 NAT64
            if (b[4] == 0x00 && b[5] == 0x01)                                                // 64:ff9b:1::/48 local-use NAT64: the operator
            {                                                                                // picks the prefix length, so every reading counts
                yield return [b[6], b[7], b[9], b[10]];                                      // /48
                yield return [b[7], b[9], b[10], b[11]];                                     // /56
                yield return b[9..13];                                                       // /64
                yield return b[12..];                                                        // /96
            }
        }
        if (b[0] == 0x20 && b[1] == 0x02) yield return b[2..6];                              // 2002::/16 6to4
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)                    // 2001::/32 Teredo
        {
            yield return b[4..8];                                                            // server
            yield return [(byte)~b[12], (byte)~b[13], (byte)~b[14], (byte)~b[15]];           // client (obfuscated)
        }
        if ((b[8] | 0x02) == 0x02 && b[9] == 0x00 && b[10] == 0x5e && b[11] == 0xfe) yield return b[12..]; // ISATAP ::[02]00:5efe:a.b.c.d
    }

    private static AddressRange ClassifyV6(byte[] b)
    {
        var address = new IPAddress(b);
        if (IPAddress.IPv6None.Equals(address) || IPAddress.IPv6Any.Equals(address)) return AddressRange.Unspecified;
        if (IPAddress.IPv6Loopback.Equals(address)) return AddressRange.Loopback;
        if (b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2) return AddressRange.CloudMetadata;   // fd00:ec2::/32 AWS
        if (MetadataV6.Contains(address)) return AddressRange.CloudMetadata;
        if (b[0] == 0xff) return AddressRange.Multicast;                                     // ff00::/8
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressRange.LinkLocal;            // fe80::/10
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressRange.UniqueLocal;          // fec0::/10 site-local
        if ((b[0] & 0xfe) == 0xfc) return AddressRange.UniqueLocal;                          // fc00::/7
        if (b[0] == 0x01 && b[1] == 0x00 && b.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0) return AddressRange.Reserved; // 100::/64 discard
        return AddressRange.Public;
    }

    private static AddressRange ClassifyV4(ReadOnlySpan<byte> b)
    {
        if (MetadataV4.Contains(new IPAddress(b))) return AddressRange.CloudMetadata;
        return (b[0], b[1], b[2], b[3]) switch
        {
            (169, 254, 169 or 170, _) => AddressRange.CloudMetadata,   // AWS/GCP/Azure/OpenStack metadata, DNS, NTP; ECS and EKS credentials
            (169, 254, 0, _) => AddressRange.CloudMetadata,            // Tencent Cloud metadata (169.254.0.23) and its services
            (255, 255, 255, 255) => AddressRange.Broadcast,
            (0, _, _, _) => AddressRange.Unspecified,
            (10, _, _, _) => AddressRange.Private,
            (127, _, _, _) => AddressRange.Loopback,
            (100, >= 64 and <= 127, _, _) => AddressRange.SharedAddressSpace,
            (169, 254, _, _) => AddressRange.LinkLocal,
            (172, >= 16 and <= 31, _, _) => AddressRange.Private,
            (192, 168, _, _) => AddressRange.Private,
            (192, 0, 0, _) => AddressRange.Reserved,
            (198, 18 or 19, _, _) => AddressRange.Reserved,
            (>= 224 and <= 239, _, _, _) => AddressRange.Multicast,
            (>= 240, _, _, _) => AddressRange.Reserved,
            _ => AddressRange.Public,
        };
    }

    /// <summary>Public 0, refused unless private addresses are allowed 1, refused always 2.</summary>
    private static int Strictness(AddressRange range) =>
        IsAllowed(range, allowPrivate: false) ? 0 : IsAllowed(range, allowPrivate: true) ? 1 : 2;
}
