/** The login form: the admin's user name and password, or a token. */
import { useState } from 'preact/hooks';
import { basicAuthorization, session, sessionMessage } from '../session';

export function Login() {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [user, setUser] = useState('admin');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState(sessionMessage.value);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    const authorization = mode === 'password' ? basicAuthorization(user, password) : `Bearer ${token.trim()}`;
    try {
      const response = await fetch('/system/info', { headers: { authorization } });
      if (response.status === 401) {
        setError(
          mode === 'password' ? 'Wrong user name or password.' : 'The server does not accept this token.',
        );
        return;
      }
      if (!response.ok) {
        setError(`The server answered ${response.status}.`);
        return;
      }
      const whoami = await fetch('/system/whoami', { headers: { authorization } });
      const me = whoami.ok ? ((await whoami.json()) as { kind?: string; name?: string }) : {};
      session.start({
        authorization,
        who: me.name ?? (mode === 'password' ? user : 'token'),
        admin: whoami.ok ? me.kind === 'admin' : mode === 'password',
      });
    } catch {
      setError('The server cannot be reached.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <h1>Nubes</h1>
      <form onSubmit={(event) => void submit(event)} aria-describedby={error ? 'login-error' : undefined}>
        <fieldset class="tabs">
          <legend>Log in with</legend>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === 'password'}
              onChange={() => setMode('password')}
            />
            User and password
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === 'token'} onChange={() => setMode('token')} />
            Token
          </label>
        </fieldset>
        {mode === 'password' ? (
          <>
            <label for="login-user">User</label>
            <input
              id="login-user"
              autoComplete="username"
              value={user}
              onInput={(e) => setUser(e.currentTarget.value)}
              required
            />
            <label for="login-password">Password</label>
            <input
              id="login-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
            />
          </>
        ) : (
          <>
            <label for="login-token">Token</label>
            <input
              id="login-token"
              type="password"
              autoComplete="off"
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
              required
            />
          </>
        )}
        {error && (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
