/**
 * A piece of network text (address, CIDR, range, service) could not be parsed.
 * The message quotes the offending text, says what is wrong and how to fix it; it carries no file
 * location: callers that know where the text came from prefix that themselves.
 */
export class NetParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetParseError";
  }
}
