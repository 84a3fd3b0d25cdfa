namespace VQToken.Ingestion.Url;

/// <summary>What kind of network an IP address belongs to, as far as fetching a user's URL is concerned.</summary>
public enum AddressRange
{
    Public,
    Loopback,
    /// <summary>RFC 1918 (10/8, 172.16/12, 192.168/16).</summary>
    Private,
    /// <summary>RFC 6598 carrier-grade NAT, 100.64/10.</summary>
    SharedAddressSpace,
    /// <summary>169.254/16 and fe80::/10.</summary>
    LinkLocal,
    /// <summary>fc00::/7 (and the deprecated site-local fec0::/10).</summary>
    UniqueLocal,
    /// <summary>Cloud instance metadata and platform endpoints (169.254.169.0/24, 169.254.170.0/24, 169.254.0.0/24,
    /// 168.63.129.16, 100.100.100.200, 192.0.0.192, fd00:ec2::/32, fd20:ce::254). Refused always.</summary>
    CloudMetadata,
    Multicast,
    /// <summary>0.0.0.0/8 and ::.</summary>
    Unspecified,
    /// <summary>255.255.255.255.</summary>
    Broadcast,
    /// <summary>Other special-purpose ranges (192.0.0/24, 198.18/15, 240/4, 100::/64).</summary>
    Reserved,
}
