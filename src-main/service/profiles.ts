/** The instrument editor's profile preview: how a profile reads the instrument's last message. */
import type { ProfilePreview } from '../../src-shared/contract';
import { profileNamed, type InstrumentProfile } from '../../src-shared/profiles';
import { explainStoredText } from '../profiles/read-message';
import type { HistoryReader } from '../store/store';
import { CommandFailure } from './failure';
import type { CommandHandlers } from './handlers';

/** Recent messages looked through for one that carries results. */
const LOOK_BACK = 20;

export function profileCommands(store: HistoryReader): CommandHandlers<'previewProfile'> {
  return {
    previewProfile: ({ instrumentId, profile: name }): ProfilePreview => {
      const profile = name === null ? null : known(name);
      const recent = store.queryMessages({ instrumentId, direction: 'in', limit: LOOK_BACK }).items;
      const last = recent.find((m) => m.resultCount > 0) ?? recent[0];
      const message = last ? store.getMessage(last.id) : null;
      if (!message) return { message: null };
      if (profile && profile.protocol !== message.protocol) {
        throw new CommandFailure(
          'PROFILE_PROTOCOL',
          `"${profile.name}" reads ${profile.protocol.toUpperCase()} messages; this instrument's are ${message.protocol.toUpperCase()}`,
        );
      }
      const read = explainStoredText(message.protocol, message.text, profile);
      return {
        message: {
          id: message.id,
          receivedAt: message.receivedAt,
          protocol: message.protocol,
          results: read.results.map((result, i) => ({ ...result, sources: read.sources[i] ?? [] })),
          notes: read.notes,
        },
      };
    },
  };
}

function known(name: string): InstrumentProfile {
  const profile = profileNamed(name);
  if (!profile) throw new CommandFailure('UNKNOWN_PROFILE', `there is no profile named "${name}"`);
  return profile;
}
