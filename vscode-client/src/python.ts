// The interpreter selected in the Python extension (ms-python.python), used when
// nearcode.server.python is empty. Typed structurally so the extension needs no
// dependency on the Python extension's API package.

import * as vscode from 'vscode';

interface EnvironmentPath {
  path: string;
}

interface ResolvedEnvironment {
  executable: { uri?: vscode.Uri };
}

interface PythonApi {
  ready?: Promise<void>;
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

const PYTHON_EXTENSION_ID = 'ms-python.python';
/** The Python extension can take long to activate; the server should not wait on it forever. */
const LOOKUP_TIMEOUT_MS = 10_000;

async function lookUp(resource: vscode.Uri | undefined): Promise<string[] | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
  if (!extension) {
    return undefined;
  }
  const api = extension.isActive ? extension.exports : await extension.activate();
  await api.ready;
  if (api.environments) {
    const env = await api.environments.resolveEnvironment(api.environments.getActiveEnvironmentPath(resource));
    const executable = env?.executable.uri?.fsPath;
    if (executable) {
      return [executable];
    }
  }
  return api.settings?.getExecutionDetails(resource).execCommand;
}

/** The Python extension's interpreter invocation, or undefined (not installed, none selected, error). */
export async function pythonExtensionInterpreter(
  resource: vscode.Uri | undefined,
  log: (line: string) => void,
): Promise<string[] | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), LOOKUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([lookUp(resource), timeout]);
  } catch (error) {
    log(`Could not ask the Python extension for its interpreter: ${String(error)}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
