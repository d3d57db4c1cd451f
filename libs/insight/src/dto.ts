import { ApiProperty } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { MinPositionField } from '@purser/platform';
import { HORIZONS, Horizon } from './forecast.queries';
import { ENTITY_TYPES, EntityType } from './series.projection';

/** An org, team or user id, or an item as `itemType:itemId`. */
export const ENTITY_ID = /^[A-Za-z0-9_.:/@-]{1,200}$/;

export class ForecastQueryDto {
  @ApiProperty({
    type: String,
    enum: ENTITY_TYPES,
    description: 'Whose spend: the org, a team (with its sub-teams), a user or an item',
  })
  @IsIn(ENTITY_TYPES)
  entityType: EntityType;

  @ApiProperty({
    type: String,
    pattern: ENTITY_ID.source,
    description:
      'The team or user id, or the item as itemType:itemId (e.g. Tool:web.search); for the org, the org id',
  })
  @Matches(ENTITY_ID, { message: 'entityId must be 1-200 characters of [A-Za-z0-9_.:/@-]' })
  entityId: string;

  @ApiProperty({
    type: String,
    enum: HORIZONS,
    description: "To the end of the current day, week or month in the org's zone",
  })
  @IsIn(HORIZONS)
  horizon: Horizon;

  @MinPositionField()
  minPosition?: string;
}
