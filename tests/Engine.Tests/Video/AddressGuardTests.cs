using System.Net;
using VQToken.Ingestion.Url;

namespace VQToken.Engine.Tests.Video;

/// <summary>The address guard on parsed addresses only: nothing here opens a connection.</summary>
public class AddressGuardTests
{
    [Theory]
    [InlineData("127.0.0.1", AddressRange.Loopback)]
    [InlineData("127.9.8.7", AddressRange.Loopback)]
    [InlineData("10.0.0.1", AddressRange.Private)]
    [InlineData("10.255.255.255", AddressRange.Private)]
    [InlineData("172.16.0.1", AddressRange.Private)]
    [InlineData("172.31.255.254", AddressRange.Private)]
    [InlineData("192.168.1.1", AddressRange.Private)]
    [InlineData("100.64.0.1", AddressRange.SharedAddressSpace)]
    [InlineData("100.127.255.254", AddressRange.SharedAddressSpace)]
    [InlineData("169.254.1.1", AddressRange.LinkLocal)]
    [InlineData("169.254.169.254", AddressRange.CloudMetadata)]
    [InlineData("0.0.0.0", AddressRange.Unspecified)]
    [InlineData("255.255.255.255", AddressRange.Broadcast)]
    [InlineData("224.0.0.1", AddressRange.Multicast)]
    [InlineData("240.0.0.1", AddressRange.Reserved)]
    [InlineData("::1", AddressRange.Loopback)]
    [InlineData("::", AddressRange.Unspecified)]
    [InlineData("fe80::1", AddressRange.LinkLocal)]
    [InlineData("fc00::1", AddressRange.UniqueLocal)]
    [InlineData("fd12:3456::1", AddressRange.UniqueLocal)]
    [InlineData("fd00:ec2::254", AddressRange.CloudMetadata)]
    [InlineData("ff02::1", AddressRange.Multicast)]
    [InlineData("::ffff:127.0.0.1", AddressRange.Loopback)]
    [InlineData("::ffff:10.0.0.1", AddressRange.Private)]
    [InlineData("::ffff:169.254.169.254", AddressRange.CloudMetadata)]
    [InlineData("::127.0.0.1", AddressRange.Loopback)]
    [InlineData("::10.0.0.1", AddressRange.Private)]
    [InlineData("64:ff9b::10.0.0.1", AddressRange.Private)]
    [InlineData("2002:a00:1::1", AddressRange.Private)]
    public void Refused_ranges_are_recognised_in_IPv4_and_IPv6(string address, AddressRange expected)
    {
        var ip = IPAddress.Parse(address);

        Assert.Equal(expected, AddressGuard.Classify(ip));
        Assert.False(AddressGuard.IsAllowed(ip, allowPrivate: false));
    }

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("1.1.1.1")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:93.184.216.34")]
    public void Public_addresses_are_allowed(string address)
    {
        var ip = IPAddress.Parse(address);

        Assert.Equal(AddressRange.Public, AddressGuard.Classify(ip));
        Assert.True(AddressGuard.IsAllowed(ip, allowPrivate: false));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("::ffff:192.168.0.10", true)]
    [InlineData("fd12::1", true)]
    [InlineData("169.254.169.254", false)]
    [InlineData("fd00:ec2::254", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    public void Allowing_private_addresses_never_allows_metadata_multicast_or_unspecified(string address, bool allowed)
    {
        Assert.Equal(allowed, AddressGuard.IsAllowed(IPAddress.Parse(address), allowPrivate: true));
    }

    [Theory]
    [InlineData("168.63.129.16")]            // Azure WireServer, a public address
    [InlineData("100.100.100.200")]          // Alibaba Cloud
    [InlineData("169.254.170.2")]            // AWS ECS task credentials
    [InlineData("169.254.170.23")]           // AWS EKS pod identity
    [InlineData("169.254.0.23")]             // Tencent Cloud
    [InlineData("169.254.169.253")]          // AWS DNS resolver
    [InlineData("192.0.0.192")]              // Oracle Cloud
    [InlineData("fd00:ec2::254")]            // AWS IMDS over IPv6
    [InlineData("fd00:ec2::23")]             // AWS EKS pod identity over IPv6
    [InlineData("fd20:ce::254")]             // GCP metadata over IPv6
    [InlineData("::ffff:168.63.129.16")]
    [InlineData("::ffff:100.100.100.200")]
    public void Cloud_metadata_endpoints_are_refused_even_with_private_addresses_allowed(string address)
    {
        var ip = IPAddress.Parse(address);

        Assert.False(AddressGuard.IsAllowed(ip, allowPrivate: false));
        Assert.False(AddressGuard.IsAllowed(ip, allowPrivate: true));
    }

    /// <summary>Every IPv6 form that delivers to an IPv4 address is judged by that address: the expected
    /// range is the embedded address's.</summary>
    [Theory]
    [InlineData("::ffff:0:127.0.0.1", AddressRange.Loopback)]                    // IPv4-translated (RFC 6145)
    [InlineData("::ffff:0:10.1.2.3", AddressRange.Private)]
    [InlineData("::ffff:0:169.254.169.254", AddressRange.CloudMetadata)]
    [InlineData("::169.254.169.254", AddressRange.CloudMetadata)]                // IPv4-compatible
    [InlineData("::192.168.0.1", AddressRange.Private)]
    [InlineData("64:ff9b::7f00:1", AddressRange.Loopback)]                       // NAT64 well-known prefix
    [InlineData("64:ff9b::a9fe:a9fe", AddressRange.CloudMetadata)]
    [InlineData("64:ff9b::a83f:8110", AddressRange.CloudMetadata)]               // 168.63.129.16
    [InlineData("64:ff9b:1:a9fe:a9:fe00::", AddressRange.CloudMetadata)]         // local-use NAT64, /48 form of 169.254.169.254
    [InlineData("64:ff9b:1::a00:1", AddressRange.Unspecified)]                   // local-use: the /48 reading is 0.0.0.0
    [InlineData("2002:7f00:1::1", AddressRange.Loopback)]                        // 6to4
    [InlineData("2002:a9fe:a9fe::1", AddressRange.CloudMetadata)]
    [InlineData("2002:6464:64c8::1", AddressRange.CloudMetadata)]                // 6to4 of 100.100.100.200
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe", AddressRange.Loopback)]  // Teredo client 127.0.0.1 (XOR ffffffff)
    [InlineData("2001:0:4136:e378:8000:63bf:5601:5601", AddressRange.CloudMetadata)] // Teredo client 169.254.169.254
    [InlineData("2001:0:a00:1:8000:63bf:3fff:fdd2", AddressRange.Private)]       // Teredo server 10.0.0.1
    [InlineData("2001:0:a83f:8110:8000:63bf:3fff:fdd2", AddressRange.CloudMetadata)] // Teredo server 168.63.129.16
    [InlineData("2001:db8::5efe:a00:1", AddressRange.Private)]                   // ISATAP interface id
    [InlineData("2001:db8::200:5efe:7f00:1", AddressRange.Loopback)]
    public void IPv6_forms_that_embed_an_IPv4_address_are_judged_by_the_embedded_address(string address, AddressRange expected)
    {
        var ip = IPAddress.Parse(address);

        Assert.Equal(expected, AddressGuard.Classify(ip));
        Assert.False(AddressGuard.IsAllowed(ip, allowPrivate: false));
        Assert.Equal(expected is AddressRange.Loopback or AddressRange.Private, AddressGuard.IsAllowed(ip, allowPrivate: true));
    }

    [Theory]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]   // Teredo between public server 65.54.227.120 and client 192.0.2.45
    [InlineData("2002:5db8:d822::1")]                      // 6to4 of 93.184.216.34
    [InlineData("64:ff9b::5db8:d822")]                     // NAT64 of 93.184.216.34
    [InlineData("::ffff:0:93.184.216.34")]
    [InlineData("2001:4860:4860::8888")]                   // in 2001::/16 but not Teredo
    public void IPv6_forms_embedding_a_public_IPv4_address_stay_public(string address)
    {
        var ip = IPAddress.Parse(address);

        Assert.Equal(AddressRange.Public, AddressGuard.Classify(ip));
        Assert.True(AddressGuard.IsAllowed(ip, allowPrivate: false));
    }
}
