namespace VQToken.Testing;

/// <summary>The English text <see cref="SyntheticTokenizer"/> learns its merges from. Changing it
/// changes every generated tokenizer, so keep it as it is.</summary>
internal static class SyntheticCorpus
{
    public const string Text = """
        The service answers questions about videos. A user uploads a video, the service samples
        frames from it, the vision tower turns every frame into patch features, and the projector
        maps them into the space of the language model. The features of all the frames are then
        compressed into a small set of tokens, and the language model reads these tokens together
        with the question and writes the answer, one token at a time.

        What is the man in the red coat doing? He is walking his dog along the river. Where does the
        video take place? It takes place in a kitchen, then in a garden. How many people are in the
        room? There are three people in the room. Why did the girl open the door? She opened the door
        because somebody was knocking. What happens after the car stops? The driver gets out and
        talks to the police officer. Is it raining? No, it isn't raining; the sun is shining.

        I'm sure they'll come back soon, and we've got time. You're right, it's the third time
        they've asked. Don't worry: we'd have seen it if it had happened.

        Numbers help too: 1, 2, 3, 10, 20, 100, 2024, 3.14 and 42 appear in the text, as do dates
        such as 12/05/2023 and times such as 09:30. Prices like $19.99 or 250 EUR, phone numbers
        like +1 555 0100, and lists: (a) apples, (b) bananas, (c) cherries.

        The quick brown fox jumps over the lazy dog. The lazy dog sleeps in the sun. The fox runs
        into the forest, and the dog does not follow it. A bird sings in the tree while the wind
        moves the leaves. Every morning the children walk to school, and every evening they come
        home, tired and happy. The teacher reads a story, and the students listen and answer the
        questions about the story.

        The video shows a person cooking. First the person cuts the onions and the tomatoes, then
        puts them in a pan with some oil. After a few minutes the person adds water, salt and
        pepper, and stirs. At the end the person tastes the soup and smiles. The answer is: the
        person is making soup.
        """;
}
