using System.Net;
using VQToken.Engine.Video.Url;

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
}
