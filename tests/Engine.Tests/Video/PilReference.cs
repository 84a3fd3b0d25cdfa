using VQToken.Engine.Tests.Text;

namespace VQToken.Engine.Tests.Video;

/// <summary>The independent reference for the frame resize: Debian's python3-pil, run in a subprocess,
/// doing what the official SigLIP processor does (<c>Image.resize(size, BICUBIC)</c> on an RGB image).
/// Without python3 and PIL the tests that use it fail and say what to install.</summary>
internal static class PilReference
{
    private const string Hint = "The PIL parity tests need Debian's python3 with PIL (apt-get install -y python3-pil).";

    // argv: frames.rgb width height count out_width out_height out.rgb
    private const string Script = """
        import sys
        from PIL import Image
        src, w, h, n, ow, oh, dst = sys.argv[1], *map(int, sys.argv[2:7]), sys.argv[7]
        bicubic = getattr(Image, "Resampling", Image).BICUBIC
        size = w * h * 3
        with open(src, "rb") as f, open(dst, "wb") as out:
            for _ in range(n):
                data = f.read(size)
                assert len(data) == size, "short frame"
                out.write(Image.frombytes("RGB", (w, h), data).resize((ow, oh), bicubic).tobytes())
            assert f.read(1) == b"", "trailing bytes"
        """;

    /// <summary>Debian's interpreter (the one python3-pil installs into) when present, else python3 on PATH.</summary>
    private static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Resizes <paramref name="count"/> packed rgb24 frames of <paramref name="width"/> x <paramref name="height"/>
    /// with PIL's bicubic to <paramref name="outWidth"/> x <paramref name="outHeight"/>.</summary>
    public static byte[] Resize(byte[] frames, int width, int height, int count, int outWidth, int outHeight)
    {
        var stem = Path.Combine(Path.GetTempPath(), "vqtoken-pil-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(stem + ".in", frames);
            ExternalProcess.Run(Python,
                ["-c", Script, stem + ".in", .. new[] { width, height, count, outWidth, outHeight }.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)), stem + ".out"],
                Path.GetTempPath(), TimeSpan.FromMinutes(2), Hint);
            var output = File.ReadAllBytes(stem + ".out");
            Assert.Equal((long)count * outWidth * outHeight * 3, output.LongLength);
            return output;
        }
        finally
        {
            File.Delete(stem + ".in");
            File.Delete(stem + ".out");
        }
    }
}
