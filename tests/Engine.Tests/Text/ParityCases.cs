using VQToken.Engine.Text;

namespace VQToken.Engine.Tests.Text;

/// <summary>Strings the parity tests encode with both tokenizers.</summary>
internal static class ParityCases
{
    public static IReadOnlyList<string> All { get; } =
    [
        // ASCII
        "", "Hello world", "Hello, World! How are you today?", "The quick brown fox jumps over the lazy dog.",
        // white space runs
        "  two leading spaces", "trailing spaces   ", "a  b   c    d     e", "tabs\tand\t\ttabs", "line\nbreak",
        "\n\n\nthree newlines first", "windows\r\nline\r\nends\r\n", "mixed \t \n \r\n  whitespace\n\n  indented",
        "   ", "\n", " \n ", "\t", "code:\n    if x:\n        return 1\n\n", "end with newline and spaces\n   ",
        "no-break\u00a0space and\u3000ideographic space",
        // numbers
        "1234567890", "3.14159 and 2,718,281", "Year 2024: 12/05 at 09:30, $19.99", "x1y22z333",
        "Arabic-Indic ٣٤٥ and roman Ⅷ numerals",
        // punctuation
        "Wait... what?!", "(a) [b] {c} <d> \"e\" 'f'", "email@example.com https://example.org/path?q=1&r=2",
        "--- *** ### ___ ~~~ ...", "¡Hola! ¿Qué tal?", "semi;colon:colon,comma.",
        // contractions
        "I'm sure they'll come, you've seen it, it's done, we'd go, don't", "I'M SURE THEY'LL COME", "'s 'T 're 'Ve 'LL 'd",
        "rock 'n' roll", "the dog's bone and the dogs' bones",
        // CJK
        "你好，世界！今天天气很好。", "日本語のテキストとカタカナ、ひらがな。", "한국어 문장입니다.", "中文English混合text123混合",
        // emoji
        "😀😃😄", "👨‍👩‍👧‍👦 family", "👍🏽 thumbs up with skin tone", "🇯🇵🇺🇸 flags", "❤️ heart", "🏳️‍🌈 flag", "a😀b",
        // other scripts and mixes
        "Ünïcödé àccents: café, naïve, Ångström", "Ωμέγα κόσμε, Привет мир, مرحبا بالعالم, שלום",
        "𝐀𝐁𝐂 math bold and 𠀀𠀁 extension B", "a𠀀b 𝟘𝟙", "cafe\u0301 decomposed é",
        "The video (视频) shows 3 people 👨‍👩‍👧 cooking soup 🍲 at 18:00!",
        // template text with special tokens
        ChatTemplate.Render("What is the man in the red coat doing?"),
        "text<|endoftext|>more text", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>",
        "<|im_end|><|im_end|>", " <|im_start|> spaces around ",
    ];
}
