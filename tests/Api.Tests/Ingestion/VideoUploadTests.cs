using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;

namespace VQToken.Api.Tests.Ingestion;

public class VideoUploadTests(UploadApiFactory factory) : IClassFixture<UploadApiFactory>
{
    [Fact]
    public async Task Multipart_upload_is_stored_hashed_and_probed_then_cleaned_up()
    {
        var bytes = await File.ReadAllBytesAsync(factory.VideoPath);

        var (status, reply) = await PostMultipartAsync(bytes, "clip.mp4", "video/mp4");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), reply.Sha256);
        Assert.Equal(bytes.Length, reply.Size);
        Assert.Equal(10, reply.Frames);
        AssertTempRootEmpty();
    }

    [Fact]
    public async Task Raw_body_upload_is_accepted()
    {
        var bytes = await File.ReadAllBytesAsync(factory.VideoPath);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        var response = await factory.CreateClient().PostAsync("/test/upload", content);
        var reply = await response.Content.ReadFromJsonAsync<UploadReply>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), reply!.Sha256);
        AssertTempRootEmpty();
    }

    [Fact]
    public async Task Upload_past_the_limit_is_refused_with_413_and_leaves_no_temp_file()
    {
        var bytes = await File.ReadAllBytesAsync(factory.BigVideoPath);
        Assert.True(bytes.Length > UploadApiFactory.UploadLimit, "the big test video is not bigger than the limit");

        var (status, reply) = await PostMultipartAsync(bytes, "big.mkv", "video/x-matroska");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("TooLarge", reply.Error);
        AssertTempRootEmpty();
    }

    [Fact]
    public async Task Text_dressed_up_as_an_mp4_is_refused_with_415()
    {
        var bytes = Encoding.UTF8.GetBytes("definitely not a video\n");

        var (status, reply) = await PostMultipartAsync(bytes, "clip.mp4", "video/mp4");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("NotAVideo", reply.Error);
        AssertTempRootEmpty();
    }

    [Fact]
    public async Task Multipart_without_a_file_part_is_a_bad_request()
    {
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "comment" } };

        var response = await factory.CreateClient().PostAsync("/test/upload", form);
        var reply = await response.Content.ReadFromJsonAsync<UploadReply>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("MalformedUpload", reply!.Error);
        AssertTempRootEmpty();
    }

    private async Task<(HttpStatusCode, UploadReply)> PostMultipartAsync(byte[] bytes, string fileName, string contentType)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var form = new MultipartFormDataContent { { new StringContent("a note before the file"), "comment" }, { file, "file", fileName } };
        var response = await factory.CreateClient().PostAsync("/test/upload", form);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<UploadReply>())!);
    }

    private void AssertTempRootEmpty() =>
        Assert.Empty(Directory.Exists(factory.TempRoot) ? Directory.EnumerateFileSystemEntries(factory.TempRoot) : []);
}
