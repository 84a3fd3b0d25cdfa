// The VQToken page: add a video (file or URL), follow its processing, see its clusters, ask questions
// with streamed answers, list your videos. Plain browser JavaScript, no build step.
'use strict';

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = 'vqtoken.apiKey';

const state = {
  videoId: null,
  watcher: null,        // { close() } of the running progress stream
  clustersUrl: null,    // object URL of the shown cluster picture
  evidenceUrl: null,    // object URL of the shown evidence picture
};

// ---- API access -----------------------------------------------------------------------------

function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || '';
}

/** Request headers with the API key when one is set. */
function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, 'X-Api-Key': key } : extra;
}

/** An Error carrying the problem details (RFC 7807) of a failed response, or its status text. */
async function problemError(response) {
  let problem = null;
  try {
    const type = response.headers.get('content-type') || '';
    if (type.includes('json')) problem = await response.json();
  } catch { /* not JSON after all */ }
  const error = new Error(problem?.title || `${response.status} ${response.statusText}`);
  error.problem = problem || { status: response.status, title: error.message };
  return error;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (!response.ok) throw await problemError(response);
  return response;
}

/** Reads a text/event-stream body, calling onEvent(name, data) for each event. */
async function readServerSentEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let match;
    while ((match = /\r?\n\r?\n/.exec(buffer))) {
      const block = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      let name = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(name, data.join('\n'));
    }
  }
}

// ---- errors ---------------------------------------------------------------------------------

function showError(error) {
  const box = $('error');
  const problem = error.problem || { title: error.message || String(error) };
  box.replaceChildren();
  const title = document.createElement('strong');
  title.textContent = problem.title || 'Something went wrong';
  box.append(title);
  if (problem.detail) box.append(document.createTextNode(': ' + problem.detail));
  const fields = Object.entries(problem.errors || {});
  if (fields.length > 0) {
    const list = document.createElement('ul');
    for (const [field, messages] of fields) {
      const item = document.createElement('li');
      item.textContent = `${field}: ${[].concat(messages).join(', ')}`;
      list.append(item);
    }
    box.append(list);
  }
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').replaceChildren();
}

// ---- adding a video -------------------------------------------------------------------------

async function addVideo(event) {
  event.preventDefault();
  clearError();
  const button = $('upload');
  button.disabled = true;
  try {
    const file = $('file').files[0];
    const url = $('url').value.trim();
    const settings = {
      frames: $('frames').value ? Number($('frames').value) : undefined,
      fps: $('fps').value ? Number($('fps').value) : undefined,
      maxFrames: $('maxFrames').value && $('fps').value ? Number($('maxFrames').value) : undefined,
      start: $('start').value ? Number($('start').value) : undefined,
      end: $('end').value ? Number($('end').value) : undefined,
      compression: $('compression').value,
      k: $('k').value && $('compression').value === 'vqtoken-fixed' ? Number($('k').value) : undefined,
      tokens: $('compression').value !== 'full' ? $('tokens').value : undefined,
      elbow: $('compression').value === 'vqtoken-adaptive' ? $('elbow').value : undefined,
    };
    let response;
    if (file) {
      const form = new FormData();
      form.append('file', file, file.name);
      for (const [name, value] of Object.entries(settings)) if (value !== undefined) form.append(name, String(value));
      response = await api('/videos', { method: 'POST', body: form });
    } else if (url) {
      response = await api('/videos', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ url, ...settings }),
      });
    } else {
      throw new Error('Choose a video file or give its URL');
    }
    const video = await response.json();
    selectVideo(video);
    refreshList();
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

// ---- one video ------------------------------------------------------------------------------

function selectVideo(video) {
  state.watcher?.close();
  state.watcher = null;
  state.videoId = video.id;
  $('video').hidden = false;
  $('video-id').textContent = video.id;
  $('answer').textContent = '';
  $('answer').dataset.state = 'idle';
  $('answer-json').textContent = '';
  setClusters(null);
  setEvidence(null);
  showVideo(video);
  if (video.status === 'queued' || video.status === 'processing') state.watcher = watch(video.id);
  for (const item of $('videos').children) item.setAttribute('aria-current', String(item.dataset.id === video.id));
}

function showVideo(video) {
  if (video.id !== state.videoId) return;
  const status = $('status');
  status.textContent = video.status;
  status.dataset.status = video.status;
  $('stage').textContent = video.status === 'failed' ? `(${video.reason || 'no reason given'})`
    : video.progress && video.status === 'processing' ? `(${video.progress.stage})` : '';
  $('progress').value = video.status === 'ready' ? 1 : video.progress?.fraction ?? 0;
  $('tokens').textContent = video.tokens
    ? `${video.tokens.original} frame tokens → ${video.tokens.compressed} visual tokens (${(video.tokens.ratio * 100).toFixed(2)} %)` : '';
  $('ask').disabled = video.status === 'failed';
  if (video.status === 'ready') {
    if (video.settings.compression === 'full') $('no-clusters').hidden = false;
    else loadClusters(video.id);
  }
}

/** Follows GET /videos/{id}/events: EventSource when no key is needed (it cannot send headers),
 *  otherwise fetch with the key and the same event parsing. */
function watch(id) {
  const onEvent = (name, data) => {
    if (name === 'deleted') { refreshList(); return; }
    const video = JSON.parse(data);
    showVideo(video);
    if (name === 'ready' || name === 'failed') refreshList();
  };
  if (!apiKey()) {
    const source = new EventSource(`/videos/${encodeURIComponent(id)}/events`);
    for (const name of ['progress', 'ready', 'failed', 'deleted']) {
      source.addEventListener(name, (event) => {
        onEvent(name, event.data);
        if (name !== 'progress') source.close();   // the stream ends here; do not let EventSource reconnect
      });
    }
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) showError(new Error('Lost the progress stream; refresh the list to see the status'));
    };
    return { close: () => source.close() };
  }
  const abort = new AbortController();
  api(`/videos/${encodeURIComponent(id)}/events`, { headers: { Accept: 'text/event-stream' }, signal: abort.signal })
    .then((response) => readServerSentEvents(response, onEvent))
    .catch((error) => { if (error.name !== 'AbortError') showError(error); });
  return { close: () => abort.abort() };
}

/** The picture is fetched (not an img src) so the API key header goes with it. */
async function loadClusters(id) {
  try {
    const response = await api(`/videos/${encodeURIComponent(id)}/clusters.png`);
    const blob = await response.blob();
    if (id !== state.videoId) return;
    setClusters(URL.createObjectURL(blob));
  } catch (error) {
    showError(error);
  }
}

function setClusters(url) {
  if (state.clustersUrl) URL.revokeObjectURL(state.clustersUrl);
  state.clustersUrl = url;
  const image = $('clusters');
  delete image.dataset.loaded;
  $('no-clusters').hidden = true;
  $('clusters-figure').hidden = !url;
  if (url) {
    image.onload = () => { image.dataset.loaded = 'true'; };
    image.src = url;
  } else {
    image.removeAttribute('src');
  }
}

// ---- asking ---------------------------------------------------------------------------------

async function ask(event) {
  event.preventDefault();
  if (!state.videoId) return;
  clearError();
  const answer = $('answer');
  const button = $('ask');
  answer.textContent = '';
  answer.dataset.state = 'streaming';
  $('answer-json').textContent = '';
  setEvidence(null);
  button.disabled = true;
  const videoId = state.videoId;
  try {
    const body = { question: $('question').value, maxNewTokens: Number($('max-new-tokens').value) || undefined };
    if ($('evidence').checked) body.evidence = true;
    const response = await api(`/videos/${encodeURIComponent(state.videoId)}/ask`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
    await readServerSentEvents(response, (name, data) => {
      const payload = JSON.parse(data);
      if (name === 'token') answer.textContent += payload.text;
      else if (name === 'done') {
        $('answer-json').textContent = JSON.stringify(payload, null, 2);
        answer.dataset.state = 'done';
        if (payload.evidence) showEvidence(videoId, payload.evidence);
      } else if (name === 'error') {
        const error = new Error(payload.title || 'The answer failed');
        error.problem = payload;
        throw error;
      }
    });
    if (answer.dataset.state !== 'done') throw new Error('The answer stream ended before its final event');
  } catch (error) {
    answer.dataset.state = 'error';
    showError(error);
  } finally {
    button.disabled = false;
  }
}

/** Shows the answer's heat picture (fetched, so the API key goes with it) and its top frames in words. */
async function showEvidence(videoId, evidence) {
  const seconds = (frame) => (frame.time == null ? `frame ${frame.index + 1}` : `${frame.time.toFixed(2)} s`);
  const total = evidence.frames.reduce((sum, frame) => sum + frame.score, 0) || 1;
  const top = evidence.frames.slice(0, 3).map((frame) => `${seconds(frame)} (${Math.round((100 * frame.score) / total)} %)`);
  $('evidence-caption').textContent = `Most attended frames: ${top.join(', ')}. ` +
    `${Math.round(100 * evidence.visualShare)} % of the answer's attention went to the video. Attention is not causation.`;
  $('evidence-figure').hidden = false;
  if (!evidence.picture) return;
  try {
    const response = await api(evidence.picture);
    const blob = await response.blob();
    if (videoId !== state.videoId) return;
    setEvidence(URL.createObjectURL(blob));
  } catch (error) {
    showError(error);
  }
}

function setEvidence(url) {
  if (state.evidenceUrl) URL.revokeObjectURL(state.evidenceUrl);
  state.evidenceUrl = url;
  const image = $('evidence-picture');
  delete image.dataset.loaded;
  if (url) {
    image.onload = () => { image.dataset.loaded = 'true'; };
    image.src = url;
  } else {
    image.removeAttribute('src');
    $('evidence-caption').textContent = '';
    $('evidence-figure').hidden = true;
  }
}

// ---- the list -------------------------------------------------------------------------------

async function refreshList() {
  try {
    const page = await (await api('/videos?limit=50')).json();
    const list = $('videos');
    list.replaceChildren(...page.items.map(videoItem));
    if (page.items.length === 0) {
      const empty = document.createElement('li');
      empty.textContent = 'No videos yet.';
      list.append(empty);
    }
  } catch (error) {
    showError(error);
  }
}

function videoItem(video) {
  const item = document.createElement('li');
  item.dataset.id = video.id;
  item.dataset.status = video.status;
  item.setAttribute('aria-current', String(video.id === state.videoId));
  const name = document.createElement('span');
  name.className = 'name';
  const path = video.settings.tokens ? ` (${video.settings.tokens})` : '';
  name.textContent = `${video.source.location} · ${video.settings.compression}${path} · ${video.status}`;
  const open = document.createElement('button');
  open.type = 'button';
  open.textContent = 'Open';
  open.setAttribute('aria-label', `Open ${video.source.location} (${video.id})`);
  open.addEventListener('click', () => openVideo(video.id));
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'secondary';
  remove.textContent = 'Delete';
  remove.setAttribute('aria-label', `Delete ${video.source.location} (${video.id})`);
  remove.addEventListener('click', () => deleteVideo(video.id));
  item.append(name, open, remove);
  return item;
}

async function openVideo(id) {
  clearError();
  try {
    selectVideo(await (await api(`/videos/${encodeURIComponent(id)}`)).json());
  } catch (error) {
    showError(error);
  }
}

async function deleteVideo(id) {
  clearError();
  try {
    await api(`/videos/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (id === state.videoId) {
      state.watcher?.close();
      state.videoId = null;
      $('video').hidden = true;
      setClusters(null);
    }
    refreshList();
  } catch (error) {
    showError(error);
  }
}

// ---- library search -------------------------------------------------------------------------
// POST /videos/search streamed: progress while the videos are scored, then the ranked list with each video's
// cluster picture as its thumbnail (fetched with the key, one at a time; a video without one shows its name and score).

const searchState = { thumbnails: [] };   // object URLs of the shown thumbnails

async function searchLibrary(event) {
  event.preventDefault();
  clearError();
  const button = $('search');
  const summary = $('search-summary');
  const meter = $('search-progress');
  for (const url of searchState.thumbnails) URL.revokeObjectURL(url);
  searchState.thumbnails = [];
  $('search-results').replaceChildren();
  summary.textContent = 'Scoring…';
  summary.dataset.state = 'streaming';
  meter.value = 0;
  meter.hidden = false;
  button.disabled = true;
  try {
    const body = { question: $('search-text').value, top: Number($('search-top').value) || undefined, evidence: true };
    const response = await api('/videos/search', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
    let result = null;
    await readServerSentEvents(response, (name, data) => {
      const payload = JSON.parse(data);
      if (name === 'progress') {
        meter.max = Math.max(1, payload.total);
        meter.value = payload.scored;
        summary.textContent = `Scored ${payload.scored} of ${payload.total} videos…`;
      } else if (name === 'done') {
        result = payload;
      } else if (name === 'error') {
        const error = new Error(payload.title || 'The search failed');
        error.problem = payload;
        throw error;
      }
    });
    if (!result) throw new Error('The search stream ended before its final event');
    showSearchResults(result);
  } catch (error) {
    summary.textContent = '';
    summary.dataset.state = 'error';
    showError(error);
  } finally {
    meter.hidden = true;
    button.disabled = false;
  }
}

function showSearchResults(result) {
  const summary = $('search-summary');
  const notes = [];
  if (result.skipped > 0) notes.push(`${result.skipped} skipped (being recomputed)`);
  if (result.truncated) notes.push('only the newest were scored (Search:MaxVideos)');
  summary.textContent = `${result.scored} ready video${result.scored === 1 ? '' : 's'} scored in ${(result.totalMs / 1000).toFixed(1)} s` +
    (notes.length ? ` (${notes.join('; ')})` : '') + (result.results.length ? '; best first:' : '; nothing to show.');
  summary.dataset.state = 'done';
  const items = result.results.map(searchItem);
  $('search-results').replaceChildren(...items.map((i) => i.item));
  loadThumbnails(items.filter((i) => i.hit.thumbnail));
}

/** One ranked video: thumbnail slot, name, score and p(yes | yes or no), and a button that opens it. */
function searchItem(hit) {
  const item = document.createElement('li');
  item.dataset.id = hit.id;
  item.dataset.score = String(hit.score);
  const thumb = document.createElement('img');
  thumb.className = 'thumb';
  thumb.alt = `Clusters of ${hit.name}`;
  thumb.hidden = true;
  const text = document.createElement('span');
  text.className = 'name';
  const yes = 1 / (1 + Math.exp(-hit.score));
  const best = hit.frames?.[0];   // where the scoring position looked most (docs/SEARCH.md)
  text.textContent = `${hit.rank}. ${hit.name} · score ${hit.score.toFixed(2)} (yes ${(100 * yes).toFixed(0)}% against no)` +
    (best?.time != null ? ` · best frame at ${best.time.toFixed(1)} s` : '');
  text.title = `log p(Yes) ${hit.logProbYes.toFixed(3)}, log p(No) ${hit.logProbNo.toFixed(3)}; created ${hit.createdAt}`;
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'secondary';
  open.textContent = 'Open';
  open.setAttribute('aria-label', `Open ${hit.name} (${hit.id})`);
  open.addEventListener('click', () => openVideo(hit.id));
  item.append(thumb, text, open);
  return { item, thumb, hit };
}

async function loadThumbnails(items) {
  for (const { thumb, hit } of items) {
    try {
      const blob = await (await api(hit.thumbnail)).blob();
      const url = URL.createObjectURL(blob);
      searchState.thumbnails.push(url);
      thumb.src = url;
      thumb.hidden = false;
    } catch { /* no picture: the name and score stand alone */ }
  }
}

// ---- start ----------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  const key = $('api-key');
  key.value = apiKey();
  key.addEventListener('change', () => {
    if (key.value.trim()) localStorage.setItem(KEY_STORAGE, key.value.trim());
    else localStorage.removeItem(KEY_STORAGE);
    refreshList();
  });
  $('upload-form').addEventListener('submit', addVideo);
  $('ask-form').addEventListener('submit', ask);
  $('refresh').addEventListener('click', refreshList);
  $('search-form').addEventListener('submit', searchLibrary);
  refreshList();
});
