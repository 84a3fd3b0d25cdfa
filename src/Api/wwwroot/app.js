// The VQToken page: add a video (file or URL), follow its processing, see its clusters, ask questions
// with streamed answers, list your videos. Plain browser JavaScript, no build step.
'use strict';

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = 'vqtoken.apiKey';

const state = {
  videoId: null,
  watcher: null,        // { close() } of the running progress stream
  clustersUrl: null,    // object URL of the shown cluster picture
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
  button.disabled = true;
  try {
    const body = { question: $('question').value, maxNewTokens: Number($('max-new-tokens').value) || undefined };
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
  refreshList();
});
