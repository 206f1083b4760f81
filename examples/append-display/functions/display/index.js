// The `display` function: writes the message to the function's log and returns it.
//
// context.logger writes JSON lines carrying the execution id, so `flowapp` shows this
// line among the logs of the execution that produced it.
'use strict';

exports.handle = async (data, context) => {
  const message = data && data.message;
  if (typeof message !== 'string') {
    throw new context.FunctionError(422, 'Missing message', "the input has no 'message' string");
  }
  context.logger.info('display: %s', message);
  return { displayed: message };
};
