// The chat page: wires the deep-chat widget to the server's /chat/session, /chat/message
// and /chat/history API (bot/channels/webchat.py). Bot text arrives already escaped and
// linkified by the server ("html"); everything else is built with DOM APIs, never from strings
// (the summary's chart is an <img> of the server's SVG data: URL, checked before it is used).
// No crisis number is written here: the texts that name them come from the page (rendered by
// the server from data/knowledge/crisis_resources.yml) or from the server's error replies.

const MAX_CHARS = 2000;
const HELP_TITLE = 'Get help now';
const HELP_PAYLOAD = '/sos';

// {offline, notLoaded}: each {text, html}, from the page's <script type="application/json">.
function readPageTexts() {
  try {
    const data = JSON.parse(document.getElementById('page-texts').textContent);
    if (data && data.offline && data.offline.text && data.notLoaded && data.notLoaded.text) return data;
  } catch (e) {
    // fall through: the header still names the crisis lines
  }
  const note = document.getElementById('emergency-note');
  const text = `Sorry, I can't reach the assistant right now. ${note ? note.textContent.trim() : ''}`;
  return { offline: { text, html: '' }, notLoaded: { text, html: '' } };
}

const TEXTS = readPageTexts();
const OFFLINE_TEXT = TEXTS.offline.text;

const chat = document.getElementById('deep-chat');
const statusEl = document.getElementById('status');
const announcer = document.getElementById('announcer');
const helpButton = document.getElementById('help-now');
const newChatButton = document.getElementById('new-chat');
const clearButton = document.getElementById('clear-chat');
const CLEARED_TEXT =
  'This chat has been cleared from this computer: its messages can no longer be opened here.';

let token = null; // kept in memory; after a reload the HttpOnly cookie carries the session
let pendingButton = null; // {title, payload} of a clicked button, until the widget hands it over
let ready = null; // promise of a usable session

// message: the text to show; html: the same with call/text links (escaped by the server), or ''.
class ApiError extends Error {
  constructor(status, code, message, html) {
    super(message);
    this.status = status;
    this.code = code;
    this.html = html || '';
  }
}

function offlineError() {
  return new ApiError(0, 'network', TEXTS.offline.text, TEXTS.offline.html);
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw offlineError();
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    // Every refusal (429 too many messages, 503, 400...) carries a text for the person:
    // it is shown in place of a reply, so no message is dropped without a word.
    if (!data || typeof data.message !== 'string' || !data.message) {
      const fallback = offlineError();
      fallback.status = res.status;
      throw fallback;
    }
    const html = typeof data.html === 'string' ? data.html : '';
    throw new ApiError(res.status, data.error || 'http_error', data.message, html);
  }
  if (!data || typeof data !== 'object') throw offlineError();
  return data;
}

// A new server-chosen session, or with resume the one in our cookie (after a reload).
async function openSession(resume) {
  const data = await api('POST', 'session', resume ? { resume: true } : {});
  token = data.token;
  return data.resumed;
}

// The bot's messages in a /message reply.
function messagesOf(data) {
  if (!Array.isArray(data.messages)) throw offlineError();
  return data.messages;
}

// Sends one message (typed text or a button payload); starts a new session once if ours ended.
async function send(message) {
  await ready;
  try {
    return messagesOf(await api('POST', 'message', { message }));
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      await openSession(false);
      return messagesOf(await api('POST', 'message', { message }));
    }
    throw e;
  }
}

// The summary's PHQ-9 chart: an SVG the server drew, as a data: URL in an <img> (an image's
// scripts never run, and nothing of it is inserted as markup); anything else is not shown.
const CHART_PREFIX = 'data:image/svg+xml;base64,';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function chartImage(chart) {
  if (!chart || typeof chart.src !== 'string' || typeof chart.alt !== 'string') return null;
  if (!chart.src.startsWith(CHART_PREFIX) || !BASE64.test(chart.src.slice(CHART_PREFIX.length))) return null;
  const img = document.createElement('img');
  img.className = 'chat-chart';
  img.src = chart.src;
  img.alt = chart.alt;
  img.width = 380;
  img.height = 300;
  return img;
}

function botHtml(message) {
  const wrap = document.createElement('div');
  const chart = chartImage(message.chart);
  if (chart) wrap.append(chart);
  if (message.html) {
    const text = document.createElement('div');
    text.className = 'bot-text';
    text.innerHTML = message.html; // escaped by the server before linkifying
    wrap.append(text);
  }
  if (message.buttons && message.buttons.length) {
    const row = document.createElement('div');
    row.className = 'rasa-buttons';
    for (const b of message.buttons) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'rasa-button';
      button.textContent = b.title;
      button.dataset.payload = b.payload;
      row.append(button);
    }
    wrap.append(row);
  }
  return wrap.innerHTML;
}

function toWidget(message) {
  return { role: 'ai', html: botHtml(message) };
}

function announce(messages) {
  const text = messages
    .map((m) => m.text || (m.chart && typeof m.chart.alt === 'string' ? m.chart.alt : ''))
    .filter(Boolean)
    .join(' ');
  if (text) announcer.textContent = text;
}

// A notice above the chat; html (escaped and linkified by the server) when there is one.
function showStatus(text, html) {
  if (html) {
    statusEl.innerHTML = html;
  } else {
    statusEl.textContent = text || '';
  }
  statusEl.hidden = !text && !html;
}

function showError(e) {
  showStatus(e.message || OFFLINE_TEXT, e.html || (e.message ? '' : TEXTS.offline.html));
}

// An error in the conversation: the server's text with its call/text links when it sent them.
function errorMessage(e) {
  if (!e.html) return { error: e.message || OFFLINE_TEXT };
  const wrap = document.createElement('div');
  const text = document.createElement('div');
  text.className = 'bot-text error-notice';
  text.innerHTML = e.html; // escaped by the server before linkifying
  wrap.append(text);
  return { html: wrap.innerHTML };
}

function pressButton(title, payload) {
  pendingButton = { title, payload };
  chat.submitUserMessage({ text: title });
}

function configureWidget() {
  chat.textInput = {
    characterLimit: MAX_CHARS,
    placeholder: { text: 'Type your message' },
    styles: { container: { border: '1px solid #5f6b7a', borderRadius: '8px' } },
  };
  chat.chatStyle = {
    width: '100%',
    height: '100%',
    border: 'none',
    backgroundColor: '#ffffff',
    fontSize: '1rem',
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
  };
  chat.messageStyles = {
    default: {
      shared: { bubble: { maxWidth: '85%', lineHeight: '1.45', padding: '0.6em 0.85em' } },
      ai: { bubble: { backgroundColor: '#eef1f5', color: '#1b1f24' } },
      user: { bubble: { backgroundColor: '#1d4f91', color: '#ffffff' } },
    },
    html: {
      shared: { bubble: { maxWidth: '85%', lineHeight: '1.45', padding: '0.6em 0.85em' } },
      ai: { bubble: { backgroundColor: '#eef1f5', color: '#1b1f24' } },
    },
    error: { bubble: { backgroundColor: '#fdecea', color: '#7a1c12' } },
  };
  chat.htmlClassUtilities = {
    'rasa-buttons': {
      styles: { default: { display: 'flex', flexWrap: 'wrap', gap: '0.5em', marginTop: '0.6em' } },
    },
    'rasa-button': {
      events: {
        click: (event) => {
          const button = event.target.closest ? event.target.closest('.rasa-button') : event.target;
          pressButton(button.textContent, button.dataset.payload);
        },
      },
      styles: {
        default: {
          font: 'inherit',
          fontSize: '0.95em',
          padding: '0.45em 0.9em',
          minHeight: '44px',
          borderRadius: '999px',
          border: '2px solid #1d4f91',
          backgroundColor: '#ffffff',
          color: '#1d4f91',
          cursor: 'pointer',
        },
        hover: { backgroundColor: '#e3ecf8' },
        click: { backgroundColor: '#c9daf1' },
      },
    },
    'chat-chart': {
      styles: {
        default: {
          display: 'block',
          width: '100%',
          maxWidth: '440px',
          height: 'auto',
          borderRadius: '8px',
          backgroundColor: '#ffffff',
        },
      },
    },
    'bot-list': { styles: { default: { margin: '0.35em 0', paddingInlineStart: '1.25em' } } },
    'tel-link': { styles: { default: { color: '#0b4ea2', fontWeight: '600' } } },
    'sms-link': { styles: { default: { color: '#0b4ea2', fontWeight: '600' } } },
    'web-link': { styles: { default: { color: '#0b4ea2' } } },
    'error-notice': { styles: { default: { color: '#7a1c12' } } },
  };
  chat.errorMessages = { displayServiceErrorMessages: true };
  chat.connect = {
    handler: async (body, signals) => {
      const last = body && body.messages && body.messages[body.messages.length - 1];
      const typed = (last && last.text) || '';
      let message = typed;
      if (pendingButton && pendingButton.title === typed) message = pendingButton.payload;
      pendingButton = null;
      try {
        const replies = await send(message);
        showStatus('');
        if (!replies.length) {
          // The widget needs a response to clear its loading bubble; the bot had nothing to say.
          await signals.onResponse({ html: '<span class="no-reply" aria-hidden="true">…</span>' });
          return;
        }
        announce(replies);
        await signals.onResponse(replies.map(toWidget));
      } catch (e) {
        const err = e instanceof ApiError ? e : offlineError();
        announce([{ text: err.message || OFFLINE_TEXT }]);
        await signals.onResponse(errorMessage(err));
      }
    },
  };
}

async function start(fresh) {
  showStatus('');
  const resumed = await openSession(!fresh);
  if (resumed) {
    try {
      const data = await api('GET', 'history');
      if (data.messages.length) {
        for (const m of data.messages) {
          chat.addMessage(m.role === 'user' ? { role: 'user', text: m.text } : toWidget(m));
        }
        return;
      }
    } catch (e) {
      if (e.status === 0) throw e;
      // the earlier messages are unavailable: carry on with a greeting
    }
  }
  const replies = messagesOf(await api('POST', 'message', { message: '/greet' }));
  announce(replies);
  for (const m of replies) chat.addMessage(toWidget(m));
}

function boot(fresh) {
  ready = start(fresh).catch((e) => {
    showError(e instanceof ApiError ? e : offlineError());
  });
  return ready;
}

helpButton.addEventListener('click', () => {
  if (customElements.get('deep-chat') && chat.submitUserMessage) {
    pressButton(HELP_TITLE, HELP_PAYLOAD);
  } else {
    showStatus(TEXTS.notLoaded.text, TEXTS.notLoaded.html);
    statusEl.focus();
  }
});

// Ends the session on the server at once (its token and cookie can never open the chat
// again), then starts a new one. Returns false when the server could not be told.
async function endSession(reason) {
  let ended = true;
  try {
    await api('POST', `session/end?reason=${reason}`, {});
  } catch (e) {
    ended = false;
  }
  token = null;
  return ended;
}

async function restart(reason, notice) {
  chat.clearMessages(true);
  const ended = await endSession(reason);
  await boot(true);
  if (!ended) {
    showError(offlineError());
  } else if (notice) {
    showStatus(notice);
    announcer.textContent = notice;
  }
}

newChatButton.addEventListener('click', async () => {
  if (!window.confirm('Start a new conversation? This one will no longer show on this page.')) return;
  await restart('start_over', '');
});

// For a shared computer: the chat is gone from the screen, and nobody can reopen it here.
clearButton.addEventListener('click', async () => {
  if (!window.confirm('Clear this chat? Its messages will be removed from this screen and cannot be opened again on this computer.')) return;
  await restart('clear', CLEARED_TEXT);
});

customElements.whenDefined('deep-chat').then(() => {
  configureWidget();
  boot(false);
});

setTimeout(() => {
  if (!customElements.get('deep-chat')) {
    showStatus(TEXTS.notLoaded.text, TEXTS.notLoaded.html);
  }
}, 8000);
