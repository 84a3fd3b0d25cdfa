using System.Net;
using System.Net.Sockets;

namespace VQToken.Engine.Video.Url;

/// <summary>Decides which addresses a URL fetch may connect to (the server-side request forgery guard).
/// IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
/// 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4 address inside.</summary>
public static class AddressGuard
{
    private static readonly IPAddress Ec2MetadataV6 = IPAddress.Parse("fd00:ec2::254");

    /// <summary>Public addresses always; with <paramref name="allowPrivate"/> (on-prem) also loopback,
    /// private, CGNAT, link-local and unique-local. Never metadata, multicast, unspecified, broadcast, reserved.</summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivate) => Classify(address) switch
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
        if (address.IsIPv4MappedToIPv6) return ClassifyV4(b[12..]);
        if (IPAddress.IPv6None.Equals(address) || IPAddress.IPv6Any.Equals(address)) return AddressRange.Unspecified;
        if (IPAddress.IPv6Loopback.Equals(new IPAddress(b))) return AddressRange.Loopback;
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0) return ClassifyV4(b[12..]);   // ::a.b.c.d (IPv4-compatible)
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
            return ClassifyV4(b[12..]);                                                      // 64:ff9b::/96 NAT64
        if (b[0] == 0x20 && b[1] == 0x02) return ClassifyV4(b[2..6]);                        // 2002::/16 6to4
        if (new IPAddress(b).Equals(Ec2MetadataV6)) return AddressRange.CloudMetadata;
        if (b[0] == 0xff) return AddressRange.Multicast;                                     // ff00::/8
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressRange.LinkLocal;            // fe80::/10
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressRange.UniqueLocal;          // fec0::/10 site-local
        if ((b[0] & 0xfe) == 0xfc) return AddressRange.UniqueLocal;                          // fc00::/7
        if (b[0] == 0x01 && b[1] == 0x00 && b.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0) return AddressRange.Reserved; // 100::/64 discard
        return AddressRange.Public;
    }

    private static AddressRange ClassifyV4(ReadOnlySpan<byte> b) => (b[0], b[1], b[2], b[3]) switch
    {
        (169, 254, 169, 254) => AddressRange.CloudMetadata,
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
